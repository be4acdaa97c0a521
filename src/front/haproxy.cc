#include "front/haproxy.h"

#include <algorithm>
#include <sstream>

namespace villager::front {

namespace {

std::string ms(config::Millis d) {
  return std::to_string(d.count()) + "ms";
}

}  // namespace

std::string haproxy_key_variable(const std::string& service) {
  std::string up;
  for (char c : service)
    up += std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::toupper(c)) : '_';
  return "VILLAGER_FRONT_" + up + "_KEY";
}

std::string haproxy_config(const config::Config& config, const config::EnvironmentConfig& env) {
  const config::FrontConfig& f = env.ssh.front;
  std::ostringstream o;
  o << "# HAProxy in front of the fleet \"" << env.name << "\", written by `villager front haproxy "
    << env.name << "` from " << config.file.filename().string() << ".\n"
    << "# Run it again after the hosts or the front change; check it with `haproxy -c -f FILE`.\n";
  std::vector<std::string> keys;
  for (const auto& [svc, listen] : f.listen) {
    const config::ServiceConfig* sc = config.service(svc);
    if (sc && sc->health_needs_key())
      keys.push_back(haproxy_key_variable(svc) + " (the value of secret " + sc->auth_secret + ")");
  }
  for (const auto& k : keys) o << "# Needs in HAProxy's environment: " << k << "; it is not in this file.\n";
  o << "\nglobal\n"
    << "    log stderr format short local0 notice\n"
    << "\ndefaults\n"
    << "    mode http\n"
    << "    log global\n"
    << "    option httplog\n"
    << "    option redispatch\n"
    << "    retries 2\n"
    << "    timeout connect " << ms(env.ssh.connect_timeout) << "\n"
    << "    timeout client 60s\n"
    << "    timeout server 60s\n"
    << "    timeout check " << ms(f.check_timeout) << "\n";
  for (const auto& [svc, listen] : f.listen) {
    const config::ServiceConfig* sc = config.service(svc);
    if (!sc) continue;
    bool keyed = sc->health_needs_key();
    o << "\nfrontend " << svc << "\n"
      << "    bind " << listen.to_string() << "\n"
      << "    default_backend " << svc << "\n"
      << "\nbackend " << svc << "\n"
      << "    balance roundrobin\n"
      << "    option httpchk\n"
      << "    http-check send meth GET uri " << sc->health_path;
    if (keyed) o << " hdr " << sc->auth_header << " \"${" << haproxy_key_variable(svc) << "}\"";
    o << "\n    http-check expect status 200\n"
      << "    default-server inter " << ms(f.check_interval) << " fall " << f.fall << " rise " << f.rise
      << "\n";
    for (const auto& h : env.ssh.hosts)
      o << "    server " << h.name << " " << config::HostPort{h.address, env.listen.at(svc).port}.to_string()
        << " check\n";
  }
  return o.str();
}

}  // namespace villager::front
