// How villager reaches an environment's public listeners: scheme, public name and connect address.
#include <algorithm>

#include "config/config.h"

namespace villager::config {

bool serves_tls(const Config& c, const EnvironmentConfig& env) {
  if (env.target != TargetKind::kLocal || c.agent.tls_cert.empty()) return false;
  const auto& envs = c.agent.tls_environments;
  return envs.empty() || std::find(envs.begin(), envs.end(), env.name) != envs.end();
}

std::optional<PublicAddress> public_address(const Config& c, const EnvironmentConfig& env,
                                            const std::string& service) {
  auto it = env.listen.find(service);
  if (it == env.listen.end()) return std::nullopt;
  // A wildcard listen address is reached on this machine's loopback.
  HostPort connect = it->second;
  if (connect.host == "0.0.0.0") connect.host = "127.0.0.1";
  if (connect.host == "::") connect.host = "::1";
  HostPort shown = connect;
  if (auto n = env.public_names.find(service); n != env.public_names.end()) shown.host = n->second;

  PublicAddress a;
  const bool tls = serves_tls(c, env);
  a.base_url = (tls ? "https://" : "http://") + shown.to_string();
  if (shown.host != connect.host) a.connect_to = connect.to_string();
  if (tls) a.ca_file = c.agent.tls_ca;
  return a;
}

}  // namespace villager::config
