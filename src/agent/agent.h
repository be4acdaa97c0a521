#pragma once
// The agent: one long-running process per host. It serves every service of every `local` environment
// through an edge proxy, runs the releases through the Supervisor, and exposes the control API the CLI
// drives deploys and rollbacks with. run() blocks until SIGTERM/SIGINT or a shutdown request.

#include <memory>

#include "base/error.h"
#include "config/config.h"

namespace villager::agent {

struct AgentOptions {
  bool stop_releases_on_exit = false;  // default: releases keep running and a new agent re-adopts them
  int proxy_threads = 1;
};

Status run_agent(const config::Config& config, const AgentOptions& options);

}  // namespace villager::agent
