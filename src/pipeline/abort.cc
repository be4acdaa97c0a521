#include "pipeline/abort.h"

#include <nlohmann/json.hpp>

#include "pipeline/held.h"
#include "store/step_kinds.h"

namespace villager::pipeline {

using json = nlohmann::json;

Result<std::optional<RunningCanary>> find_running(store::Store& store, const std::string& environment,
                                                  const std::string& service) {
  auto running = newest_running_deploy(store, environment, service);
  if (!running) return running.error();
  if (!*running) return std::optional<RunningCanary>{};
  RunningCanary c;
  c.deployment = (*running)->deployment;
  for (const auto& s : (*running)->steps) {
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
