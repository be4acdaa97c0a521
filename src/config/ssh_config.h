#pragma once
// The `target = "ssh"` keys of an [environments.NAME] table (docs/targets/ssh.md). Internal to the
// config module: config.cc calls this while it parses an environment.

#include "config/config.h"
#include "config/toml_reader.h"

namespace villager::config {

// Reads hosts, ssh_identity, known_hosts, remote_root, agent_port, batch, batch_wait, bake, min_healthy
// and ssh_connect_timeout into e.ssh; records an error for these keys on other targets, for an ssh
// environment without hosts or listen addresses, and for a canary strategy (fleets switch in batches).
void parse_ssh_environment(TomlReader& r, const toml::table& t, EnvironmentConfig& e);

}  // namespace villager::config
