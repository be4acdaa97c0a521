#pragma once
// The agent: one long-running process per host. It serves every service of every `local` environment
// through an edge proxy, runs the releases through the Supervisor, and exposes the control API the CLI
// drives deploys and rollbacks with. run() blocks until SIGTERM/SIGINT or a shutdown request.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "base/error.h"
#include "config/config.h"

namespace villager::agent {

class ControlServer;

// A rollback the agent made on its own: a critical alarm fired during the watch `deploy --no-wait` handed
// it. Traffic is already back on `digest`; the `rollback` deployment row is still running.
struct WatchRollback {
  std::string environment;
  std::string service;
  std::string version;  // the release restored
  std::string digest;
  std::string from_version;  // the release rolled back from (stopped)
  std::string from_digest;
  std::string reason;  // the alarm that fired
  int64_t deployment_id = 0;
  int64_t swap_ms = 0;
};

struct AgentOptions {
  bool stop_releases_on_exit = false;  // default: releases keep running and a new agent re-adopts them
  int proxy_threads = 1;
  // Called on a thread of its own after each WatchRollback, to do what a CLI rollback does afterwards
  // (smoke-test the restored release, mark it known-good, review document, release channel); it must
  // finish the deployment row. The agent waits for it before exiting. Unset: the agent marks the restored
  // release known-good and finishes the row itself.
  std::function<void(const WatchRollback&)> after_watch_rollback;
  // Adds routes of the caller's own to the control address before it starts listening; they do their
  // own authentication. `villager agent` mounts the dashboard under /ui with it (docs/dashboard.md), so
  // this module never links the CLI's. Its routes must not collide with /v1/... and /metrics.
  std::function<void(ControlServer&)> extra_routes;
};

Status run_agent(const config::Config& config, const AgentOptions& options);

}  // namespace villager::agent
