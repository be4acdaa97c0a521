#pragma once
// abort_requests: someone asked a running deploy to stop its canary (`villager abort`, the dashboard).
// The deploy runs in its own process; it reads the requests for its own deployment rows between canary
// waits, rolls back, and marks the request handled. A row outlives a crash of either side: a request
// for a deploy that died stays unhandled and names who asked.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"

namespace villager::store {

class Store;

struct AbortRequest {
  int64_t id = 0;                       // assigned by request_abort
  int64_t deployment_id = 0;            // the running deploy's row
  std::string actor;                    // who asked
  std::string reason;                   // "" when none was given
  int64_t requested_at = 0;             // unix ms; 0 = now
  std::optional<int64_t> handled_at{};  // set by the deploy when it acted on the request
};

// Records a request and returns its id. NotFound for an unknown deployment id.
Result<int64_t> request_abort(Store& store, const AbortRequest& request);
// The oldest unhandled request for any of `deployment_ids`, or std::nullopt.
Result<std::optional<AbortRequest>> pending_abort(Store& store, const std::vector<int64_t>& deployment_ids);
// Marks every unhandled request for `deployment_id` handled (handled_at 0 = now).
Status mark_abort_handled(Store& store, int64_t deployment_id, int64_t handled_at = 0);

}  // namespace villager::store
