#pragma once
// Held deploys (on_inconclusive = "hold"): a canary step still inconclusive at its deadline keeps the
// traffic split where it is and ends the deploy with exit 5. The deployment row stays running (the change
// has no outcome yet) and its last step is `hold:WEIGHT`; `villager promote` or `villager rollback`
// gives it its outcome (docs/monitor.md, "Holding an inconclusive canary").

#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/error.h"
#include "config/config.h"
#include "pipeline/deploy.h"
#include "store/deployment_steps.h"
#include "store/deployments.h"
#include "store/store.h"
#include "targets/target.h"

namespace villager::pipeline {

// What a canary_check returns to hold the deploy at the step's weight instead of failing it.
Error canary_hold(std::string message);
bool is_canary_hold(const Error& error);

struct HeldDeploy {
  store::Deployment deployment;  // running; digest = the candidate, from_digest = the serving release
  int weight = 0;                // the candidate's share of traffic, percent
  std::string reason;            // the verdict's summary when it was held
  int64_t held_at = 0;           // unix ms
};

// The newest deployment of `service` in `environment` while it is a deploy still running, with its steps;
// nullopt otherwise. Where finding a held canary and finding a running one to abort both begin.
struct RunningDeploy {
  store::Deployment deployment;
  std::vector<store::DeploymentStep> steps;
};
Result<std::optional<RunningDeploy>> newest_running_deploy(store::Store& store,
                                                           const std::string& environment,
                                                           const std::string& service);
// The held deploy of env/service: its newest deployment, when that is a running deploy whose last step
// is a hold. std::nullopt when nothing is held.
Result<std::optional<HeldDeploy>> find_held(store::Store& store, const std::string& environment,
                                            const std::string& service);

struct ResolveHeldRequest {
  std::string environment;
  std::vector<std::string> services;  // empty: every held service of the environment
  bool promote = false;               // true: the candidate to 100%; false: back to the serving release
  std::string actor;
};

// Gives every held deploy of the request its outcome. Promote: the candidate takes 100%, is promoted
// (the old release stays warm), the public endpoints are smoke-tested (hooks.post_traffic_smoke; a
// failure routes back) and it is marked known-good. Roll back: the serving release takes 100% again and
// the candidate is stopped. Each is recorded on the held row (steps, status, audit, hooks.notify).
// Exit code 0 done, 1 a step failed, 2 nothing held, 4 the promotion's smoke failed and was rolled back.
DeployOutcome resolve_held(store::Store& store, targets::Target& target, const ResolveHeldRequest& request,
                           const DeployHooks& hooks, Clock& clock, const ProgressFn& progress);

}  // namespace villager::pipeline
