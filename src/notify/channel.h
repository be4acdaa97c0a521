#pragma once
// One release channel ([[notify]] entry): which events it wants, and sending one event to it. Kinds:
// webhook (POST of the event JSON, whose `text` is Slack-compatible), command (argv run with the JSON on
// stdin and VILLAGER_EVENT=<kind>), file (one JSON line appended). Every send is bounded by the channel's
// timeout; a webhook send also stops as soon as `abort` turns true.

#include <atomic>
#include <string>

#include "base/error.h"
#include "config/config.h"
#include "notify/event.h"

namespace villager::notify {

// True when `channel` names the event's kind (or no kinds) and its environment (or none).
bool channel_wants(const config::NotifyConfig& channel, const PipelineEvent& event);

// "webhook http://127.0.0.1:9/hook", redacted: how failures name the channel.
std::string channel_name(const config::NotifyConfig& channel);

// Sends the event once. A webhook answering other than 2xx, a command exiting non-zero and a file that
// cannot be appended to are errors.
Status send_event(const config::NotifyConfig& channel, const PipelineEvent& event,
                  const std::atomic<bool>* abort = nullptr);

}  // namespace villager::notify
