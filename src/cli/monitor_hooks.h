#pragma once
// Deploy's monitoring checks for a local environment, read from the agent: canary analysis at each
// canary step (candidate vs the baseline captured before the deploy, docs/monitor.md) and the watch
// window after promotion (a firing critical alarm means "roll back"). Other targets get no hooks here.

#include <string>

#include "base/clock.h"
#include "config/config.h"
#include "pipeline/deploy.h"

namespace villager::cli {

struct MonitorHookOptions {
  bool accept_inconclusive = false;  // an inconclusive canary at its deadline continues instead of failing
  bool no_wait = false;              // the watch is handed to the agent, which rolls back on its own
  pipeline::ProgressFn progress;
};

// Sets hooks.canary_check and hooks.watch (chaining to ones already set). Captures the baseline now,
// so call it before deploy() starts. The watch runs only when a critical alarm applies (nothing else can
// roll back), for the environment's `watch` duration.
void add_monitor_hooks(pipeline::DeployHooks& hooks, const config::Config& config, const std::string& env,
                       const MonitorHookOptions& options, Clock& clock);

}  // namespace villager::cli
