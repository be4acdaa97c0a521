#pragma once
// Ends a held deploy (on_inconclusive = "hold", pipeline/held.h) as `villager promote` and `villager
// rollback` run it: the pipeline's resolve_held with the deploy hooks, the review documents and the
// release channel, so a held canary's outcome is recorded and announced like a deploy's.

#include "config/config.h"
#include "pipeline/held.h"

namespace villager::cli {

// Whether any service of `env` (or of `services`, when not empty) is held.
bool environment_held(const config::Config& config, const std::string& env,
                      const std::vector<std::string>& services);

// Fails only when the environment or the store cannot be opened.
Result<pipeline::DeployOutcome> finish_held(const config::Config& config,
                                            const pipeline::ResolveHeldRequest& request,
                                            const pipeline::ProgressFn& progress);

}  // namespace villager::cli
