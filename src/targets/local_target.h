#pragma once
// The local engine (the agent on this host, over its control API) and the url engine (deployed
// elsewhere: smoke, monitor and load only). make_target() in make_target.cc picks between engines.

#include <functional>
#include <memory>

#include "targets/target.h"

namespace villager::targets {

// Reads the environment's control-API token; fails when the agent has not created it yet.
Result<std::unique_ptr<Target>> make_local_target(const config::Config& config,
                                                  const config::EnvironmentConfig& env);
std::unique_ptr<Target> make_url_target(const config::EnvironmentConfig& env);

// How to reach one agent: its control address and token, the host name public URLs use (empty: the
// listen address as written), how a slot's loopback port is reached from here (empty:
// http://127.0.0.1:PORT), and what must happen before a release starts there (a fleet host first
// receives the artifact). The local engine is this with the defaults; each fleet host is one too.
struct AgentEndpoint {
  config::HostPort control;
  std::string token;
  std::string public_host;
  std::function<Result<std::string>(int port)> slot_url;
  std::function<Status(const std::string& service, const std::string& digest)> prepare;
};
std::unique_ptr<Target> make_agent_target(const config::Config& config, const config::EnvironmentConfig& env,
                                          AgentEndpoint endpoint);

}  // namespace villager::targets
