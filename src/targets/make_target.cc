#include "targets/lambda_target.h"
#include "targets/local_target.h"
#include "targets/ssh_target.h"
#include "targets/target.h"

namespace villager::targets {

Result<std::unique_ptr<Target>> make_target(const config::Config& config, const std::string& environment) {
  const auto* env = config.environment(environment);
  if (!env) return InvalidArgument("no environment '" + environment + "' in " + config.file.string());
  if (env->target == config::TargetKind::kUrl) return make_url_target(*env);
  if (env->target == config::TargetKind::kLambda) return make_lambda_target(config, *env);
  if (env->target == config::TargetKind::kSsh) return make_ssh_target(config, *env);
  return make_local_target(config, *env);
}

}  // namespace villager::targets
