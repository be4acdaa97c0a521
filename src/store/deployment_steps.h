#pragma once
// deployment_steps: the ordered stages of one deployment (package, gate, smoke, shift, watch ...).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace villager::store {

class Store;

enum class StepStatus { kRunning, kSucceeded, kFailed, kSkipped };
std::string_view to_string(StepStatus status);  // "running" | "succeeded" | "failed" | "skipped"
Result<StepStatus> parse_step_status(std::string_view text);

struct DeploymentStep {
  int64_t deployment_id = 0;
  int seq = 0;  // 1, 2, ... in the order the steps were added
  std::string name;
  StepStatus status = StepStatus::kRunning;
  int64_t started_at = 0;
  std::optional<int64_t> finished_at;
  std::string detail = "{}";
};

// Starts a step (status running, started now) as the next seq of the deployment and returns that seq.
// NotFound if the deployment does not exist.
Result<int> add_step(Store& store, int64_t deployment_id, std::string_view name);
// Records how a running step ended. NotFound for an unknown step; FailedPrecondition if it already ended.
Status finish_step(Store& store, int64_t deployment_id, int seq, StepStatus status,
                   std::string_view detail_json = "{}");
// In seq order.
Result<std::vector<DeploymentStep>> list_steps(Store& store, int64_t deployment_id);

}  // namespace villager::store
