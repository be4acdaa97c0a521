#pragma once
// An alert: an alarm of the agent's that started firing or resolved, as a channel sees it. One kind of
// message a channel carries (the other is a pipeline event, notify/event.h); `[[notify]]` channels that
// list "alert" in their events receive them (docs/notify.md). Plain data; monitor::alert_for fills it.

#include <optional>
#include <string>
#include <string_view>

#include "base/clock.h"

namespace villager::notify {

// The event kind a channel names to receive alerts: `events = ["alert"]`.
inline constexpr std::string_view kAlert = "alert";

struct Alert {
  std::string alarm;
  std::string environment;
  std::string service;
  std::string release;
  std::string metric;
  std::string severity;
  std::string state;  // "firing" | "resolved"
  std::optional<double> value;
  double threshold = 0;
  std::string comparison = "above";
  SystemTime starts_at{};  // when it started firing
  SystemTime at{};         // this notification's time

  std::string text() const;     // one Slack-ready line
  std::string to_json() const;  // the webhook/file/command payload (includes `text`)
  std::string key() const;      // environment/service/alarm: identifies one alert over time
};

// "0.2", "no data": how alert values are written in text and payloads.
std::string format_alert_value(std::optional<double> v);

}  // namespace villager::notify
