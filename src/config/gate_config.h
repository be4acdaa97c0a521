#pragma once
// Section parser for [gate] and the checks that keep gated environments apart and signers well formed.
// Internal to the config module (called from parse_config after every other section).

#include "config/toml_reader.h"

namespace villager::config {

// Parses [gate] (override_role) into c.gate; checks every [[signer]] (valid role and name, a public key
// of 32 bytes, no key listed twice for one role) and that an environment which requires approvals shares
// no URL with another environment (shared listen addresses are already refused for every environment).
void parse_gate(TomlReader& r, const toml::table& root, Config& c);

}  // namespace villager::config
