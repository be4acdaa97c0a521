#pragma once
// Section parser for [[notify]]: the channels pipeline events and alerts go to, and the deprecated
// [[alert]] entries read into the same shape. Internal to the config module (called from parse_config).

#include "config/toml_reader.h"

namespace villager::config {

// Parses every [[notify]] table into c.notify: type (webhook|command|file|alertmanager) with its url,
// command or path; events (names from notify/event.h and "alert"; default every pipeline event, and
// ["alert"] for alertmanager, which takes nothing else); environments (names of [environments.*],
// default all); timeout (duration, default 5s). Then each [[alert]] (type, url, command, path) as a
// channel with events = ["alert"], with a deprecation warning.
void parse_notify(TomlReader& r, const toml::table& root, Config& c);

}  // namespace villager::config
