#pragma once
// Wiring the pipeline for the CLI: the target of an environment, the checks deploy runs at each stage,
// and progress lines on stderr.

#include <memory>
#include <string>

#include "config/config.h"
#include "pipeline/deploy.h"
#include "smoke/smoke.h"
#include "store/store.h"
#include "targets/target.h"

namespace villager::cli {

Result<std::unique_ptr<targets::Target>> make_environment_target(const config::Config& config,
                                                                 const std::string& env);
// `junit_path`, when set, gets the JUnit report of each smoke suite the deploy runs, so it holds the
// last one: the public endpoints' after promotion, or the suite that stopped the deploy.
pipeline::DeployHooks make_deploy_hooks(const config::Config& config, const std::string& env,
                                        store::Store& store, const std::string& junit_path = "");
// Secret values for the smoke suite: the environment's encrypted store, else the process environment.
smoke::SecretLookup environment_secret_lookup(const config::Config& config, const std::string& env);
// The waivers of `env` as the gate accepts them (gate/waiver.h), read once from <state_dir>/waivers when
// first asked; a folder that cannot be read waives nothing and says why in each verdict.
smoke::WaiverLookup environment_waiver_lookup(const config::Config& config, const std::string& env);
// Adds villager's own state to what the plaintext check scans: state.db read through SQLite when the
// scan runs (a plain open and close would drop this process's SQLite locks on it) and its -wal file.
void scan_own_state(const config::Config& config, smoke::SmokeOptions& opts);
// Writes the review document of each deployment row (whatever its outcome) and returns their paths;
// a failure to write one is reported on stderr and does not change the command's outcome.
std::vector<std::string> write_reviews(const config::Config& config, store::Store& store,
                                       const std::vector<pipeline::ServiceResult>& results,
                                       const std::string& trigger, const pipeline::ProgressFn& progress);
// The public endpoint of each service of `env` (all when `services` is empty), for any target kind.
Result<std::vector<smoke::SmokeTarget>> smoke_targets(const config::Config& config,
                                                      const config::EnvironmentConfig& env,
                                                      const std::vector<std::string>& services);
// Prints "villager: <what>: <line>" on stderr.
pipeline::ProgressFn stderr_progress(const std::string& what);

}  // namespace villager::cli
