#pragma once
// Section parser for [[notify]]: the release channels pipeline events go to. Internal to the config
// module (called from parse_config).

#include "config/toml_reader.h"

namespace villager::config {

// Parses every [[notify]] table into c.notify: type (webhook|command|file) with its url, command or path;
// events (names from notify/event.h, default all); environments (names of [environments.*], default
// all); timeout (duration, default 5s).
void parse_notify(TomlReader& r, const toml::table& root, Config& c);

}  // namespace villager::config
