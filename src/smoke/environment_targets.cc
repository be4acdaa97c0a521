#include <algorithm>

#include "base/strings.h"
#include "smoke/smoke.h"

namespace villager::smoke {

Result<std::vector<SmokeTarget>> environment_targets(const config::Config& config,
                                                     const config::EnvironmentConfig& env,
                                                     const std::vector<std::string>& services) {
  std::vector<std::string> names;
  if (env.target == config::TargetKind::kUrl)
    for (const auto& [svc, url] : env.urls) names.push_back(svc);
  else
    for (const auto& [svc, hp] : env.listen) names.push_back(svc);
  for (const auto& s : services)
    if (std::find(names.begin(), names.end(), s) == names.end()) {
      std::string hint = suggest(s, names);
      return InvalidArgument("environment " + env.name + " has no service '" + s + "'" +
                             (hint.empty() ? "" : " (did you mean '" + hint + "'?)") + "; it has " +
                             join(names, ", "));
    }
  std::vector<SmokeTarget> out;
  // Config order, so reports read the same way as villager.toml.
  for (const auto& svc : config.services) {
    if (std::find(names.begin(), names.end(), svc.name) == names.end()) continue;
    if (!services.empty() && std::find(services.begin(), services.end(), svc.name) == services.end())
      continue;
    SmokeTarget t;
    t.service = svc.name;
    if (env.target == config::TargetKind::kUrl) {
      t.base_url = env.urls.at(svc.name);
    } else if (env.target == config::TargetKind::kLocal) {
      // The public name and scheme the agent serves, connected at the listen address.
      auto a = config::public_address(config, env, svc.name);
      if (!a) continue;
      t.base_url = a->base_url;
      t.connect_to = a->connect_to;
      t.ca_file = a->ca_file.string();
    } else {
      config::HostPort hp = env.listen.at(svc.name);
      // A fleet's public address is its front (`villager front run`, or HAProxy on the same address)
      // when it has one for the service; without one the suite reaches the first host's listener.
      const auto& front = env.ssh.front.listen;
      if (env.target == config::TargetKind::kSsh && front.count(svc.name))
        hp = front.at(svc.name);
      else if (env.target == config::TargetKind::kSsh && !env.ssh.hosts.empty())
        hp.host = env.ssh.hosts.front().address;
      t.base_url = "http://" + hp.to_string();
    }
    out.push_back(std::move(t));
  }
  if (out.empty()) return InvalidArgument("environment " + env.name + " has no services to smoke-test");
  return out;
}

std::vector<std::filesystem::path> local_scan_paths(const config::Config& config,
                                                    const config::EnvironmentConfig& env,
                                                    const std::vector<SmokeTarget>& targets) {
  std::vector<std::filesystem::path> out;
  if (env.target != config::TargetKind::kLocal) return out;
  auto state = config.state_dir();
  for (const auto& t : targets) {
    out.push_back(state / "data" / env.name / t.service);
    out.push_back(state / "logs" / env.name / t.service);
  }
  out.push_back(state / "logs" / "agent.log");
  return out;
}

}  // namespace villager::smoke
