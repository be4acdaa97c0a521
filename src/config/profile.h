#pragma once
// The product profile (config-internal; called from parse_config once the rest of the file is read):
// `profile = "sgraph-send" | "none"`, inferred when absent, and what the sgraph-send profile brings:
// [smoke.sgraph_send] with its defaults, the deprecated SGraph Send keys of [smoke], its default
// storage_prefix for lambda, and the upload-flow keys of [smoke.browser]. docs/config.md, "profile".

#include <toml++/toml.h>

#include "config/config.h"
#include "config/toml_reader.h"

namespace villager::config {

// SGraph Send's own names, the defaults of [smoke.sgraph_send] and of lambda's storage_prefix.
inline constexpr std::string_view kSgraphAccessTokenHeader = "x-sgraph-access-token";
inline constexpr std::string_view kSgraphAccessTokenSecret = "SGRAPH_SEND__ACCESS_TOKEN";
inline constexpr std::string_view kSgraphStoragePrefix = "transfers/";

// The SGraph Send keys that [smoke] still accepts (deprecated) and [smoke.sgraph_send] holds.
extern const std::vector<std::string> kSgraphSendKeys;

// Sets c.profile (the `profile` key, else inferred, with a deprecation note naming what it was inferred
// from), then fills c.smoke.sgraph_send and the profile's defaults. An SGraph Send key under profile
// "none" is an error at that key.
void apply_profile(TomlReader& r, const toml::table& root, Config& c);

}  // namespace villager::config
