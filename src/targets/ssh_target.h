#pragma once
// The ssh engine (target = "ssh"): a fleet of hosts, each running villager's agent, reached over one
// multiplexed OpenSSH connection per host (targets/ssh.h). Each host is the local engine pointed at its
// agent through an SSH port forward; artifacts and the environment's sealed secrets are copied to a host
// before a release starts there. The Target methods act on every host in parallel; Fleet gives the
// batched rollout (pipeline/deploy.cc) each host on its own. docs/targets/ssh.md.

#include <memory>

#include "targets/ssh.h"
#include "targets/target.h"

namespace villager::targets {

// The known_hosts file of an environment: its `known_hosts`, else <state>/ssh/<env>.known_hosts.
std::filesystem::path known_hosts_path(const config::Config& config, const config::EnvironmentConfig& env);
// Where a host keeps villager: its `root`, else the environment's remote_root (relative: the home).
std::string host_root(const config::EnvironmentConfig& env, const config::SshHost& host);
SshEndpoint ssh_endpoint(const config::SshHost& host);
SshOptions ssh_options(const config::Config& config, const config::EnvironmentConfig& env);

// Connects to every host in parallel (each bounded by ssh_connect_timeout). A host that cannot be reached
// does not fail this: its operations fail naming it, and Fleet::host_target says why.
std::unique_ptr<Target> make_ssh_target(const config::Config& config, const config::EnvironmentConfig& env);

}  // namespace villager::targets
