#pragma once
// One channel of a `[[notify]]` entry: which messages it wants and sending one message to it. A message
// is a pipeline event (notify/event.h) or an alert (notify/alert.h). Types:
//   webhook       POST of the message's JSON, whose `text` is Slack-compatible
//   command       argv run with the JSON on stdin; VILLAGER_EVENT=<kind> (alerts: VILLAGER_ALERT_*)
//   file          one JSON line appended (0600)
//   alertmanager  alerts only: Alertmanager API v2, a firing alert's endsAt kept ahead by refreshes
// Every send is bounded by the channel's timeout and stops as soon as `abort` turns true.

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <variant>

#include "base/clock.h"
#include "base/error.h"
#include "config/config.h"
#include "notify/alert.h"
#include "notify/event.h"

namespace villager::notify {

using Message = std::variant<PipelineEvent, Alert>;

// "rolled_back", "alert 5xx firing": how failures name a message.
std::string message_label(const Message& m);

// True when the channel names the message's kind and its environment (or no environments). A channel
// with no `events` wants every pipeline event kind; alerts only reach channels that name "alert".
bool channel_wants(const config::NotifyConfig& channel, const Message& m);

// "webhook http://127.0.0.1:9", "command notify.sh", "file /x/y.jsonl": a URL shows only its origin
// (Slack keeps its secret in the path) and everything is redacted.
std::string channel_name(const config::NotifyConfig& channel);

class Channel {
 public:
  virtual ~Channel() = default;
  virtual std::string name() const = 0;
  // Delivers once; an error means "maybe later" (the notifier decides whether to retry).
  virtual Status send(const Message& m, SystemTime now, const std::atomic<bool>* abort) = 0;
  // Whether firing alerts must be re-sent periodically (Alertmanager: endsAt is pushed forward).
  virtual bool refreshes() const { return false; }
};

struct ChannelOptions {
  static constexpr std::chrono::milliseconds kDefaultAlertmanagerHold{5 * 60 * 1000};
  // Alertmanager: a firing alert's endsAt is now + hold, refreshed well before it passes.
  std::chrono::milliseconds alertmanager_hold = kDefaultAlertmanagerHold;
};

std::unique_ptr<Channel> make_channel(const config::NotifyConfig& config, const ChannelOptions& options = {});

}  // namespace villager::notify
