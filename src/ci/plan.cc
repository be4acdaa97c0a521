#include "ci/plan.h"

#include <filesystem>

namespace villager::ci {

namespace {

bool is_deployable(const config::EnvironmentConfig& env) {
  return env.target == config::TargetKind::kLocal || env.target == config::TargetKind::kLambda;
}

const config::EnvironmentConfig* default_production(const Plan& plan) {
  for (const auto* env : plan.deployable)
    if (env != plan.dev && !env->requires_roles.empty()) return env;
  for (auto it = plan.deployable.rbegin(); it != plan.deployable.rend(); ++it)
    if (*it != plan.dev) return *it;
  return nullptr;
}

}  // namespace

Result<Plan> make_plan(const config::Config& config, const GithubOptions& options) {
  Plan plan;
  plan.config = &config;
  plan.config_path = options.config_path;
  std::string folder = std::filesystem::path(options.config_path).parent_path().generic_string();
  plan.prefix = folder.empty() || folder == "." ? "" : folder + "/";
  for (const auto& env : config.environments)
    if (is_deployable(env)) plan.deployable.push_back(&env);
  if (plan.deployable.empty())
    return InvalidArgument(
        config.file.string() +
        ": no environment villager can deploy to (target local or lambda), so no pipeline");
  const auto& ci = config.ci;
  plan.dev = ci.dev_environment.empty() ? plan.deployable.front() : config.environment(ci.dev_environment);
  plan.production = ci.production_environment.empty() ? default_production(plan)
                                                      : config.environment(ci.production_environment);
  if (!plan.dev) return InvalidArgument("[ci] dev_environment: no environment '" + ci.dev_environment + "'");
  return plan;
}

std::string upper_name(const std::string& name) {
  std::string out;
  for (char c : name) out += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string secrets_key_name(const std::string& env) {
  return "VILLAGER_SECRETS_KEY_" + upper_name(env);
}
std::string aws_role_secret(const std::string& env) {
  return "VILLAGER_AWS_ROLE_" + upper_name(env);
}
std::string digest_output(const std::string& service) {
  return "digest-" + service;
}
std::string digest_env(const std::string& service) {
  return "DIGEST_" + upper_name(service);
}

std::string repo_path(const Plan& plan, const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  return plan.prefix + path;
}

}  // namespace villager::ci
