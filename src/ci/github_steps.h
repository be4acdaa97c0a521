#pragma once
// The steps and jobs the generated GitHub workflows are made of. Each returns a Yaml value; github.cc
// puts them together. Every `run:` script reads what it needs from env (never `${{ }}` spliced into the
// script), so an input or an output can never be run as shell. Internal to the ci module.

#include <string>
#include <vector>

#include "ci/plan.h"
#include "ci/yaml.h"

namespace villager::ci {

inline constexpr const char* kArtifactsName = "villager-artifacts";

// Jobs. `services` are the ones the workflow's environment serves, in the config's order.
Yaml test_job(const Plan& plan);
// Packs `services` (twice, `--check`), sets the job output digest-<service> for each and uploads the
// artifact store for the jobs after it.
Yaml package_job(const Plan& plan, const std::vector<std::string>& services);
// `villager approvals DIGEST --env ENV --gate` for every service: fails unless every role ENV requires
// has a valid signed approval of exactly that digest.
Yaml gate_job(const Plan& plan, const config::EnvironmentConfig& env,
              const std::vector<std::string>& services);
// Deploys the packaged digests to `env` (input `first` -> --first), then publishes the smoke JUnit, the
// review documents and the status update. `needs`: the jobs before it, the package job first.
Yaml deploy_job(const Plan& plan, const config::EnvironmentConfig& env,
                const std::vector<std::string>& needs);
// Runs only when the workflow's `environment` input names `env`.
Yaml rollback_job(const Plan& plan, const config::EnvironmentConfig& env);

}  // namespace villager::ci
