#include "notify/alert.h"

#include <cstdio>
#include <nlohmann/json.hpp>

namespace villager::notify {

std::string format_alert_value(std::optional<double> v) {
  if (!v) return "no data";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4g", *v);
  return buf;
}

std::string Alert::text() const {
  std::string icon =
      state == "firing" ? (severity == "critical" ? ":rotating_light:" : ":warning:") : ":white_check_mark:";
  std::string s = icon + " [" + (state == "firing" ? std::string("FIRING") : std::string("RESOLVED")) + "] " +
                  alarm + " on " + environment + "/" + service;
  if (!release.empty()) s += " (release " + release + ")";
  s += ": " + metric + " " + format_alert_value(value) + (comparison == "below" ? " < " : " > ") +
       format_alert_value(threshold) + " [" + severity + "]";
  return s;
}

std::string Alert::to_json() const {
  using json = nlohmann::json;
  json j = {{"alarm", alarm},           {"environment", environment},
            {"service", service},       {"release", release},
            {"metric", metric},         {"severity", severity},
            {"state", state},           {"value", value ? json(*value) : json(nullptr)},
            {"threshold", threshold},   {"starts_at", format_rfc3339(starts_at)},
            {"at", format_rfc3339(at)}, {"text", text()}};
  return j.dump();
}

std::string Alert::key() const {
  return environment + "/" + service + "/" + alarm;
}

}  // namespace villager::notify
