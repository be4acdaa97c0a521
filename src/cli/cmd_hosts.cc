// villager hosts trust|setup ENV: prepare a fleet's hosts (target = "ssh") for their first rollout.

#include <unistd.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/project.h"
#include "targets/fleet_hosts.h"
#include "targets/ssh_target.h"

namespace villager::cli {

namespace {

using json = nlohmann::json;

constexpr std::string_view kHelp = R"(usage: villager hosts trust ENV [--replace HOST]... [--json] [-c FILE]
       villager hosts setup ENV [--json] [-c FILE]

Prepares the hosts of an ssh environment (target = "ssh", docs/targets/ssh.md), every host at once.

trust   asks each host for its SSH host keys (ssh-keyscan), prints their fingerprints and writes them
        to the environment's known_hosts (`known_hosts`, default <state>/ssh/ENV.known_hosts), which
        every later SSH connection checks strictly. Compare the fingerprints with the hosts' own
        before you rely on them. A host whose key changed since it was trusted is refused (the old
        key stays) unless it is named with --replace.
setup   copies this villager binary to <root>/bin/villager and villager.toml to <root>/villager.toml
        on each host (skipped when the host has the same bytes; checked by sha256 on arrival), and
        starts the host's agent (`villager agent --fleet-host ENV`) in its own session, so it outlives
        the SSH connection: log <root>/agent.log, pid <root>/agent.pid. An agent already running
        the same binary and config is left alone; a new binary or config restarts it (its releases
        keep running and are adopted again). No root needed on the hosts.

options:
  -c, --config FILE   the config file (default ./villager.toml)
  --replace HOST      (trust) accept HOST's new host key; repeat for several hosts
  --json              print {"environment", "hosts": [...]} with one object per host

exit: 0 every host done, 1 a host failed (named, with why), 2 usage.
)";

Result<const config::EnvironmentConfig*> ssh_environment(const config::Config& cfg, const std::string& name) {
  const config::EnvironmentConfig* env = cfg.environment(name);
  if (!env) return InvalidArgument("no environment '" + name + "' in " + cfg.file.string());
  if (env->target != config::TargetKind::kSsh)
    return InvalidArgument("environment '" + name + "' has target \"" +
                           std::string(config::target_kind_name(env->target)) +
                           "\": `villager hosts` prepares the hosts of a target = \"ssh\" environment");
  return env;
}

int run_trust(const config::Config& cfg, const config::EnvironmentConfig& env, const Args& args) {
  auto replace = args.get_all("replace");
  for (const auto& r : replace) {
    bool known = false;
    for (const auto& h : env.ssh.hosts) known = known || h.name == r;
    if (!known)
      return report_error("--replace " + r + ": no host '" + r + "' in environment " + env.name, kExitUsage);
  }
  auto result = targets::trust_hosts(cfg, env, replace);
  if (!result) return report_error(result.error().context("hosts trust " + env.name), kExitFailed);
  bool ok = true;
  json hosts = json::array();
  for (const auto& t : *result) {
    ok = ok && t.error.empty();
    hosts.push_back({{"host", t.host},
                     {"address", t.address},
                     {"state", t.state},
                     {"fingerprints", t.fingerprints},
                     {"error", t.error}});
    if (args.has("json")) continue;
    std::cout << t.host << " (" << t.address << "): " << t.state << "\n";
    for (const auto& f : t.fingerprints) std::cout << "  " << f << "\n";
    if (!t.error.empty()) std::cout << "  " << t.error << "\n";
  }
  const std::string file = targets::known_hosts_path(cfg, env).string();
  if (args.has("json"))
    std::cout << json{{"environment", env.name}, {"known_hosts", file}, {"hosts", hosts}}.dump(2) << "\n";
  else
    std::cout << "known_hosts: " << file << "\n";
  return ok ? kExitOk : kExitFailed;
}

int run_setup(const config::Config& cfg, const config::EnvironmentConfig& env, const Args& args) {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec)
    return report_error("cannot find this villager binary (/proc/self/exe): " + ec.message(), kExitFailed);
  if (!args.has("json"))
    std::cerr << "villager: setting up " << env.ssh.hosts.size() << " hosts of " << env.name << "\n";
  auto result = targets::setup_hosts(cfg, env, self);
  bool ok = true;
  json hosts = json::array();
  for (const auto& h : result) {
    ok = ok && h.error.empty();
    hosts.push_back({{"host", h.host},
                     {"address", h.address},
                     {"root", h.root},
                     {"binary", h.binary},
                     {"config", h.config},
                     {"agent", h.agent},
                     {"pid", h.pid},
                     {"error", h.error}});
    if (args.has("json")) continue;
    if (h.error.empty())
      std::cout << h.host << " (" << h.address << "): agent " << h.agent << " (pid " << h.pid << "), binary "
                << h.binary << ", config " << h.config << ", root " << h.root << "\n";
    else
      std::cout << h.host << " (" << h.address << "): FAILED: " << h.error << "\n";
  }
  if (args.has("json")) std::cout << json{{"environment", env.name}, {"hosts", hosts}}.dump(2) << "\n";
  return ok ? kExitOk : kExitFailed;
}

int run_hosts(const std::vector<std::string>& argv) {
  auto args = Args::parse(argv, {kConfigFlag, {"replace", true}, {"json"}});
  if (!args) return report_error(args.error().context("hosts"), kExitUsage);
  if (args->help()) return print_help(kHelp);
  const auto& pos = args->positionals();
  if (pos.size() != 2 || (pos[0] != "trust" && pos[0] != "setup"))
    return report_error("hosts: expected `villager hosts trust ENV` or `villager hosts setup ENV`",
                        kExitUsage);
  if (pos[0] == "setup" && args->has("replace"))
    return report_error("hosts setup: --replace goes with `hosts trust`", kExitUsage);
  auto cfg = load_project(*args);
  if (!cfg) return report_error(cfg.error(), kExitUsage);
  auto env = ssh_environment(*cfg, pos[1]);
  if (!env) return report_error(env.error(), kExitUsage);
  return pos[0] == "trust" ? run_trust(*cfg, **env, *args) : run_setup(*cfg, **env, *args);
}

}  // namespace

const Command kHostsCommand = {"hosts", "trust and set up the hosts of an ssh fleet", kHelp, run_hosts};

}  // namespace villager::cli
