#pragma once
// Parser of the declarative smoke checks, `[[smoke.check]]` inside [smoke] (config-internal; called from
// parse_smoke). Keys are documented in docs/config.md, section "[[smoke.check]]".

#include <toml++/toml.h>

#include "config/config.h"
#include "config/toml_reader.h"

namespace villager::config {

// Reads `smoke.check` from the [smoke] table into c.smoke.checks, recording every problem in `r`.
// Services are parsed before: a check naming an unknown service is an error.
void parse_smoke_checks(TomlReader& r, const toml::table& smoke, Config& c);

}  // namespace villager::config
