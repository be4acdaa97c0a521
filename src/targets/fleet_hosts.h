#pragma once
// What `villager hosts` does to a fleet's hosts before the first rollout: trust their host keys (write the
// environment's known_hosts from what each host offers, refusing a key that changed) and set them up
// (the villager binary and villager.toml copied under the host's root, each checked by sha256 on
// arrival, and the host's agent started as a supervised background process that outlives the SSH
// session). Both act on every host in parallel and report per host; both are idempotent.
// docs/targets/ssh.md.

#include <filesystem>
#include <string>
#include <vector>

#include "base/error.h"
#include "config/config.h"

namespace villager::targets {

struct HostTrust {
  std::string host;                       // "web1"
  std::string address;                    // "10.0.0.11:22"
  std::string state;                      // "added" | "unchanged" | "replaced" | "refused" | "unreachable"
  std::vector<std::string> fingerprints;  // what the host offers now ("256 SHA256:... (ED25519)")
  std::string error;                      // why refused or unreachable
};

// Scans every host's keys (ssh-keyscan, bounded by ssh_connect_timeout) and writes the environment's
// known_hosts (mode 0600). A host whose offered keys differ from the ones already trusted is refused
// unless its name is in `replace`; the file keeps its old keys then. Returns the per-host outcome; the
// file is written when at least one host was added or replaced.
Result<std::vector<HostTrust>> trust_hosts(const config::Config& config, const config::EnvironmentConfig& env,
                                           const std::vector<std::string>& replace);

struct HostSetup {
  std::string host;
  std::string address;
  std::string root;    // absolute, on the host
  std::string binary;  // "uploaded" | "unchanged"
  std::string config;  // "uploaded" | "unchanged"
  std::string agent;   // "started" | "restarted" | "running"
  int pid = 0;         // the agent's pid on the host
  std::string error;   // "" when the host is ready
};

// What setup copies to the hosts: `self` without its debug sections (objcopy --strip-debug; the
// RelWithDebInfo build is ~10x larger with them), kept in `cache_dir` for the next setup; `self` itself
// when objcopy is missing or fails.
std::filesystem::path binary_to_ship(const std::filesystem::path& self,
                                     const std::filesystem::path& cache_dir);

// Sets up every host: <root>/bin/villager (the running binary without debug sections, binary_to_ship),
// <root>/villager.toml (the loaded config file), <root>/state, and the agent (`villager agent --fleet-host
// ENV`) started under setsid with its log in <root>/agent.log and its pid in <root>/agent.pid. A host whose
// agent runs the same binary and config is left alone; a changed binary or config restarts the agent (its
// releases keep running and are adopted again). A host is ready when its agent answers its control API.
std::vector<HostSetup> setup_hosts(const config::Config& config, const config::EnvironmentConfig& env,
                                   const std::filesystem::path& running);

}  // namespace villager::targets
