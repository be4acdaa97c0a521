#include "cli/rollback_action.h"

#include "base/clock.h"
#include "cli/pipeline_hooks.h"
#include "cli/release_channel.h"
#include "store/env_lock.h"

namespace villager::cli {

Result<pipeline::RollbackOutcome> manual_rollback(
    const config::Config& config, const pipeline::RollbackRequest& request,
    const pipeline::ProgressFn& progress,
    const std::function<void(const pipeline::RollbackOutcome&)>& on_result) {
  auto lock =
      store::lock_environment(config.state_dir(), request.environment, "rollback by " + request.actor);
  if (!lock) return lock.error();
  auto target = make_environment_target(config, request.environment);
  if (!target) return target.error();
  auto st = store::Store::open(config.state_dir());
  if (!st) return st.error();
  auto hooks = make_deploy_hooks(config, request.environment, **st);
  ReleaseChannel channel(config, **st, request.actor);
  channel.attach(hooks);
  auto o = pipeline::rollback(config, **st, **target, request, hooks, real_clock(), progress);
  auto reviews = write_reviews(config, **st, o.services, "manual rollback: " + request.reason, progress);
  channel.status_update(request.environment, "rollback " + request.environment, o.message, o.services,
                        reviews);
  if (on_result) on_result(o);
  channel.finish();  // after the result: pending sends get at most the channels' timeout
  return o;
}

}  // namespace villager::cli
