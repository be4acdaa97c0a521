#include "cli/pipeline_hooks.h"

#include <iostream>

#include "base/redact.h"
#include "base/strings.h"
#include "targets/lambda_watch.h"

namespace villager::cli {

Result<std::unique_ptr<targets::Target>> make_environment_target(const config::Config& config,
                                                                 const std::string& env) {
  if (!config.environment(env)) {
    std::vector<std::string> names;
    for (const auto& e : config.environments) names.push_back(e.name);
    std::string hint = suggest(env, names);
    return InvalidArgument("no environment '" + env + "' in " + config.file.string() +
                           (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
  }
  return targets::make_target(config, env);
}

pipeline::DeployHooks make_deploy_hooks(const config::Config& config, const std::string& env, store::Store&) {
  pipeline::DeployHooks hooks;
  const auto* e = config.environment(env);
  if (e && e->target == "lambda")
    hooks.watch = [&config, e] { return targets::watch_lambda_alarms(config, *e, real_clock()); };
  return hooks;
}

pipeline::ProgressFn stderr_progress(const std::string& what) {
  return [what](const std::string& line) { std::cerr << redact("villager: " + what + ": " + line) << "\n"; };
}

}  // namespace villager::cli
