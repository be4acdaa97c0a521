#pragma once
// The watch window of a lambda environment: the [[monitor.alarm]] rules evaluated from CloudWatch
// GetMetricData on each function's alias (Invocations, Errors, Duration percentiles) every
// probe_interval until `watch` has passed. An alarm that fires is an error naming the rule, the function
// and the value: the deploy then rolls back (one UpdateAlias per function).

#include "base/clock.h"
#include "base/error.h"
#include "config/config.h"

namespace villager::targets {

Status watch_lambda_alarms(const config::Config& config, const config::EnvironmentConfig& env, Clock& clock);

}  // namespace villager::targets
