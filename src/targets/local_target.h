#pragma once
// The local engine (the agent on this host, over its control API) and the url engine (deployed
// elsewhere: smoke, monitor and load only). make_target() in make_target.cc picks between engines.

#include <memory>

#include "targets/target.h"

namespace villager::targets {

// Reads the environment's control-API token; fails when the agent has not created it yet.
Result<std::unique_ptr<Target>> make_local_target(const config::Config& config,
                                                  const config::EnvironmentConfig& env);
std::unique_ptr<Target> make_url_target(const config::EnvironmentConfig& env);

}  // namespace villager::targets
