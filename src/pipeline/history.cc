#include "pipeline/history.h"

namespace villager::pipeline {

Result<store::KnownGood> rollback_target(store::Store& store, const std::string& env,
                                         const std::string& service, const std::string& current_digest,
                                         const std::string& to_version) {
  auto marks = store::known_good_history(store, env, service);
  if (!marks) return marks.error();
  store::DeploymentFilter f;
  f.environment = env;
  f.service = service;
  f.limit = 0;
  auto deployments = store::list_deployments(store, f);
  if (!deployments) return deployments.error();
  auto rolled_back_since = [&](const store::KnownGood& m) {
    for (const auto& d : *deployments)
      if (d.kind == store::DeploymentKind::kRollback && d.status == store::DeploymentStatus::kSucceeded &&
          d.from_digest == m.digest && d.started_at >= m.marked_at)
        return true;
    return false;
  };
  for (const auto& m : *marks) {
    if (m.digest == current_digest) continue;
    if (!to_version.empty()) {
      if (m.version == to_version) return m;
      continue;
    }
    if (rolled_back_since(m)) continue;
    return m;
  }
  if (!to_version.empty())
    return NotFound("no known-good release with version " + to_version + " to roll back to");
  return NotFound("no previous known-good release to roll back to");
}

}  // namespace villager::pipeline
