#pragma once
// The plan behind the generated workflows: which environment a dev push deploys to, which one is
// production, which services each serves, and the names (secrets, outputs, paths) the jobs share.
// Internal to the ci module.

#include <string>
#include <vector>

#include "base/error.h"
#include "ci/ci.h"
#include "config/config.h"

namespace villager::ci {

struct Plan {
  const config::Config* config = nullptr;
  std::string config_path;  // as the workflows name it
  std::string prefix;       // the config's folder relative to the repository root, "" or "deploy/"
  const config::EnvironmentConfig* dev = nullptr;
  const config::EnvironmentConfig* production = nullptr;     // may be null
  std::vector<const config::EnvironmentConfig*> deployable;  // every local or lambda environment
};

// Dev: [ci] dev_environment, else the first local or lambda environment. Production: [ci]
// production_environment, else the first other deployable environment that requires approvals, else the
// last other deployable one; none when there is only one.
Result<Plan> make_plan(const config::Config& config, const GithubOptions& options);

// Names shared by the jobs. ENV and SERVICE upper-cased, '-' -> '_'.
std::string upper_name(const std::string& name);
std::string secrets_key_name(const std::string& env);   // VILLAGER_SECRETS_KEY_<ENV>
std::string aws_role_secret(const std::string& env);    // VILLAGER_AWS_ROLE_<ENV>
std::string digest_output(const std::string& service);  // digest-<service>
std::string digest_env(const std::string& service);     // DIGEST_<SERVICE>
// A path of the config (relative to its folder) as seen from the repository root.
std::string repo_path(const Plan& plan, const std::string& path);

}  // namespace villager::ci
