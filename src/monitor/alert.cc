#include "monitor/alert.h"

namespace villager::monitor {

std::optional<notify::Alert> alert_for(const AlarmTransition& t) {
  if (t.to != AlarmState::kFiring && t.to != AlarmState::kResolved) return std::nullopt;
  notify::Alert a;
  a.alarm = t.alarm.name;
  a.environment = t.environment;
  a.service = t.service;
  a.release = t.release;
  a.metric = t.alarm.metric;
  a.severity = t.alarm.severity;
  a.state = std::string(to_string(t.to));
  a.value = t.value;
  a.threshold = t.alarm.threshold;
  a.comparison = t.alarm.comparison;
  a.starts_at = t.at;
  a.at = t.at;
  return a;
}

}  // namespace villager::monitor
