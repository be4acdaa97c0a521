#pragma once
// The alert an alarm transition raises. Delivery belongs to notify (notify/notifier.h), the one path
// every message takes to a channel; monitoring only says what happened.

#include <optional>

#include "monitor/alarms.h"
#include "notify/alert.h"

namespace villager::monitor {

// The alert for a transition to firing or resolved; nullopt for other transitions (pending, ok).
// `starts_at` is the transition time for firing; callers keep it for the matching resolved.
std::optional<notify::Alert> alert_for(const AlarmTransition& t);

}  // namespace villager::monitor
