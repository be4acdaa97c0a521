#include "cli/environment_action.h"

#include "cli/pipeline_hooks.h"
#include "store/env_lock.h"

namespace villager::cli {

Result<EnvironmentAction> begin_environment_action(const config::Config& config,
                                                   const std::string& environment, const std::string& holder,
                                                   const std::string& actor) {
  auto lock = store::lock_environment(config.state_dir(), environment, holder);
  if (!lock) return lock.error();
  auto target = make_environment_target(config, environment);
  if (!target) return target.error();
  auto st = store::Store::open(config.state_dir());
  if (!st) return st.error();
  EnvironmentAction a{&config,        environment, std::move(*lock), std::move(*target),
                      std::move(*st), {},          nullptr};
  a.hooks = make_deploy_hooks(config, environment, *a.store);
  a.channel = std::make_unique<ReleaseChannel>(config, *a.store, actor);
  a.channel->attach(a.hooks);
  return a;
}

void EnvironmentAction::report(const std::string& trigger, const std::string& headline,
                               const std::string& result,
                               const std::vector<pipeline::ServiceResult>& services,
                               const pipeline::ProgressFn& progress) {
  auto reviews = write_reviews(*config, *store, services, trigger, progress);
  channel->status_update(environment, headline, result, services, reviews);
}

}  // namespace villager::cli
