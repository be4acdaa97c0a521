#pragma once
// Deploy's monitoring checks for a local environment, read from the agent: canary analysis at each
// canary step (candidate vs the baseline captured before the deploy, docs/monitor.md) and the watch
// window after promotion (a firing critical alarm means "roll back"). Other targets get no hooks here.

#include <string>

#include "base/clock.h"
#include "config/config.h"
#include "pipeline/deploy.h"
#include "targets/target.h"

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

// The watch of a fleet (target "ssh"): every host's agent is read in parallel every 500 ms for its
// critical alarms (each host's agent runs the environment's monitor) and for the requests of the release
// it serves since the watch began. A critical alarm on any host fails the watch naming host, alarm and
// service (deploy then reverts the whole fleet). The step's detail holds each service's release summed
// over the hosts (requests, 5xx, p50/p99) and each host's share. Runs when a critical alarm applies.
// `fleet` must outlive the deploy.
void add_fleet_watch(pipeline::DeployHooks& hooks, const config::Config& config, const std::string& env,
                     targets::Fleet& fleet, const pipeline::ProgressFn& progress, Clock& clock);

}  // namespace villager::cli
