#pragma once
// The operator's runbook for one environment, as markdown: what is monitored (metrics, probes), each
// alarm and what it means, where alerts go, how to roll back and how long that takes (measured from
// the store's past rollbacks when there are any). Secrets never appear: channel URLs show only their
// origin.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "config/config.h"

namespace villager::monitor {

// Past rollbacks of the environment, for "how long it takes".
struct RollbackFacts {
  int count = 0;
  std::optional<int64_t> median_ms;
  std::optional<int64_t> max_ms;
};

// What an alarm means in plain words ("more than 1% of requests answered 5xx over 1m").
std::string describe_alarm(const config::AlarmConfig& alarm);

// NotFound when the environment is not in the config.
Result<std::string> write_runbook(const config::Config& config, const std::string& environment,
                                  const RollbackFacts& facts = {});

}  // namespace villager::monitor
