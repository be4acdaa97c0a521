#include "pipeline/abort.h"

#include <nlohmann/json.hpp>

#include "store/step_kinds.h"

namespace villager::pipeline {

using json = nlohmann::json;

Result<std::optional<RunningCanary>> find_running(store::Store& store, const std::string& environment,
                                                  const std::string& service) {
  store::DeploymentFilter f;
  f.environment = environment;
  f.service = service;
  f.limit = 1;
  auto newest = store::list_deployments(store, f);
  if (!newest) return newest.error();
  if (newest->empty()) return std::optional<RunningCanary>{};
  const auto& d = newest->front();
  if (d.kind != store::DeploymentKind::kDeploy || d.status != store::DeploymentStatus::kRunning)
    return std::optional<RunningCanary>{};
  auto steps = store::list_steps(store, d.id);
  if (!steps) return steps.error();
  RunningCanary c;
  c.deployment = d;
  for (const auto& s : *steps) {
    auto parsed = store::parse_step(s.name);
    if (parsed.kind == store::StepKind::kHold) return std::optional<RunningCanary>{};
    if (parsed.kind == store::StepKind::kShift) {
      c.weight = std::atoi(parsed.arg.c_str());
      c.weight_since = s.started_at;
    }
  }
  return std::optional<RunningCanary>{c};
}

Result<std::vector<store::Deployment>> request_canary_abort(store::Store& store,
                                                            const AbortCanaryRequest& request) {
  std::vector<store::Deployment> asked;
  for (const auto& service : request.services) {
    auto running = find_running(store, request.environment, service);
    if (!running) return running.error().context(request.environment + "/" + service);
    if (!*running) continue;
    const store::Deployment& d = (*running)->deployment;
    auto id = store::request_abort(store, {0, d.id, request.actor, request.reason, 0, std::nullopt});
    if (!id) return id.error();
    (void)store::append_audit(store,
                              {request.actor, "deploy.abort_requested", request.environment + "/" + service,
                               json{{"deployment_id", d.id},
                                    {"version", d.version},
                                    {"weight", (*running)->weight},
                                    {"reason", request.reason}}
                                   .dump()});
    asked.push_back(d);
  }
  if (asked.empty()) return NotFound("no deploy is running in " + request.environment);
  return asked;
}

std::string abort_reason(const store::AbortRequest& request) {
  return "aborted by " + request.actor + (request.reason.empty() ? "" : ": " + request.reason);
}

}  // namespace villager::pipeline
