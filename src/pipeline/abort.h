#pragma once
// Aborting a canary while its deploy still runs (`villager abort`, the dashboard). A deploy runs in its
// own process; the channel to it is the store: an abort request per deployment row
// (store/abort_requests.h), which the deploy reads before each traffic step and between its canary
// waits (about every kAbortPoll), then rolls back through the same restore path as a failed canary
// (outcome rolled_back, reason "aborted by NAME[: REASON]"), audited with who asked. A held canary
// (pipeline/held.h) has no process left to ask: resolve_held ends it.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "store/store.h"

namespace villager::pipeline {

// How often a deploy in a canary step looks for an abort request while it waits.
inline constexpr std::chrono::milliseconds kAbortPoll{500};

// A deploy whose canary is still being judged: its row is running, its last step is not a hold.
struct RunningCanary {
  store::Deployment deployment;
  int weight = 0;            // the candidate's share of traffic now (the last shift step), percent; 0 before
  int64_t weight_since = 0;  // unix ms the last shift step started (0 before the first)
};

// The running deploy of env/service (its newest row, when that is a running deploy not held), or
// std::nullopt.
Result<std::optional<RunningCanary>> find_running(store::Store& store, const std::string& environment,
                                                  const std::string& service);

struct AbortCanaryRequest {
  std::string environment;
  std::vector<std::string> services;  // the environment's services to look at (callers pass them all)
  std::string actor;                  // who asks: recorded, audited and named in the outcome
  std::string reason;                 // optional
};

// Records an abort request for the running deploy of each service (audited as deploy.abort_requested).
// Returns the rows asked; NotFound when no service has a running deploy.
Result<std::vector<store::Deployment>> request_canary_abort(store::Store& store,
                                                            const AbortCanaryRequest& request);

// How an abort request reads in the outcome, the row and the audit log: "aborted by alice: too slow".
std::string abort_reason(const store::AbortRequest& request);

}  // namespace villager::pipeline
