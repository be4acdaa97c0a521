#include "cli/rollback_action.h"

#include "base/clock.h"
#include "cli/environment_action.h"

namespace villager::cli {

Result<pipeline::RollbackOutcome> manual_rollback(
    const config::Config& config, const pipeline::RollbackRequest& request,
    const pipeline::ProgressFn& progress,
    const std::function<void(const pipeline::RollbackOutcome&)>& on_result) {
  auto a =
      begin_environment_action(config, request.environment, "rollback by " + request.actor, request.actor);
  if (!a) return a.error();
  auto o = pipeline::rollback(config, *a->store, *a->target, request, a->hooks, real_clock(), progress);
  a->report("manual rollback: " + request.reason, "rollback " + request.environment, o.message, o.services,
            progress);
  if (on_result) on_result(o);
  a->finish();  // after the result: pending sends get at most the channels' timeout
  return o;
}

}  // namespace villager::cli
