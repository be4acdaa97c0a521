#include "cli/held_action.h"

#include "base/clock.h"
#include "cli/pipeline_hooks.h"
#include "cli/release_channel.h"
#include "store/env_lock.h"

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
  auto lock = store::lock_environment(config.state_dir(), request.environment,
                                      (request.promote ? "promote by " : "rollback by ") + request.actor);
  if (!lock) return lock.error();
  auto target = make_environment_target(config, request.environment);
  if (!target) return target.error();
  auto st = store::Store::open(config.state_dir());
  if (!st) return st.error();
  auto hooks = make_deploy_hooks(config, request.environment, **st);
  ReleaseChannel channel(config, **st, request.actor);
  channel.attach(hooks);
  auto o = pipeline::resolve_held(**st, **target, request, hooks, real_clock(), progress);
  std::string what = request.promote ? "promote" : "rollback";
  auto reviews = write_reviews(config, **st, o.services, "held canary: " + what, progress);
  channel.status_update(request.environment, what + " " + request.environment, o.message, o.services,
                        reviews);
  channel.finish();
  return o;
}

}  // namespace villager::cli
