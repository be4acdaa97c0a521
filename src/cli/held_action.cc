#include "cli/held_action.h"

#include "base/clock.h"
#include "cli/environment_action.h"
#include "cli/pipeline_hooks.h"

namespace villager::cli {

bool environment_held(const config::Config& config, const std::string& env,
                      const std::vector<std::string>& services) {
  const auto* e = config.environment(env);
  if (!e) return false;
  auto st = store::Store::open(config.state_dir());
  if (!st) return false;
  for (const auto& service : services.empty() ? config.services_of(*e) : services)
    if (auto h = pipeline::find_held(**st, env, service); h && *h) return true;
  return false;
}

Result<pipeline::DeployOutcome> finish_held(const config::Config& config,
                                            const pipeline::ResolveHeldRequest& request,
                                            const pipeline::ProgressFn& progress) {
  std::string what = request.promote ? "promote" : "rollback";
  auto a =
      begin_environment_action(config, request.environment, what + " by " + request.actor, request.actor);
  if (!a) return a.error();
  auto o = pipeline::resolve_held(*a->store, *a->target, request, a->hooks, real_clock(), progress);
  a->report("held canary: " + what, what + " " + request.environment, o.message, o.services, progress);
  a->finish();
  return o;
}

}  // namespace villager::cli
