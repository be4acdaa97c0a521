#pragma once
// Section parser for [ci]: what `villager ci github` needs to write the project's workflows.
// Internal to the config module (called from parse_config after the environments are parsed).

#include "config/toml_reader.h"

namespace villager::config {

// Parses [ci] into c.ci and checks its references: dev_environment and production_environment name a
// local or lambda environment, each aws_role key a lambda environment, no value is empty.
void parse_ci(TomlReader& r, const toml::table& root, Config& c);

}  // namespace villager::config
