#pragma once
// Aborting a canary, as `villager abort` runs it and the dashboard's abort action calls it. A held canary
// (pipeline/held.h) has no process left, so it is routed back here (finish_held). A running one belongs
// to its `villager deploy` process: the request goes through the store (pipeline/abort.h) and this waits
// until that deploy rolled back, so the caller sees the outcome, not only that it asked.

#include <chrono>
#include <string>
#include <vector>

#include "config/config.h"
#include "pipeline/deploy.h"

namespace villager::cli {

// How long an abort waits for the running deploy to act on its request: one poll, the route swap and
// stopping the candidate take a second or two; a deploy that does not answer in this time is reported.
inline constexpr std::chrono::seconds kAbortWait{60};

struct AbortCanaryAction {
  std::string environment;
  std::vector<std::string> services{};  // empty: every service of the environment
  std::string actor;
  std::string reason{};
};

struct AbortCanaryOutcome {
  // kExitOk rolled back; kExitFailed a step failed, the deploy did not act in kAbortWait, or it reached
  // 100% first; kExitUsage nothing running or held to abort.
  pipeline::ExitCode exit_code = pipeline::kExitOk;
  std::string message;
  bool held = false;  // it was a held canary (finish_held), not a running deploy
  std::vector<pipeline::ServiceResult> services{};
  int64_t duration_ms = 0;
};

// Fails only when the environment, its lock or the store cannot be read.
Result<AbortCanaryOutcome> abort_canary(const config::Config& config, const AbortCanaryAction& request,
                                        const pipeline::ProgressFn& progress);

}  // namespace villager::cli
