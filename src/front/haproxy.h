#pragma once
// `villager front haproxy ENV`: the HAProxy configuration equivalent to villager's own front
// (front.h) for users who front their fleet with HAProxy: per service a frontend on the front's listen
// address and a backend over every host with the same health check, interval, fall and rise. A key a
// health check needs is referenced as an environment variable of HAProxy's ("${VILLAGER_FRONT_ADMIN_KEY}"),
// never written into the file.

#include <string>
#include <vector>

#include "config/config.h"

namespace villager::front {

// The environment variable HAProxy reads the API key of `service`'s health check from.
std::string haproxy_key_variable(const std::string& service);  // "VILLAGER_FRONT_ADMIN_KEY"

// The whole configuration file; `env` must have a front (front_services checks that).
std::string haproxy_config(const config::Config& config, const config::EnvironmentConfig& env);

}  // namespace villager::front
