// villager front run|haproxy ENV: the load-balancing front of a fleet (target = "ssh", docs/targets/ssh.md).

#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "cli/pipeline_hooks.h"
#include "cli/project.h"
#include "front/front.h"
#include "front/haproxy.h"

namespace villager::cli {

namespace {

using json = nlohmann::json;

constexpr std::string_view kHelp = R"(usage: villager front run ENV [--json] [-c FILE]
       villager front haproxy ENV [-o FILE] [-c FILE]

The front of an ssh environment: one address per service (`[environments.ENV.front] listen`) that
spreads requests over every host's listener for that service. A host switches between releases on
its own, atomically, so a rollout, a fleet-wide revert and `villager rollback` need nothing from the
front. A host is taken out of the pool after `fall` failed health checks in a row (its idle
connections are closed, requests in flight finish) and put back after `rise` passed ones. A service
whose health path is protected is checked with its API key, from the environment's secrets.

run      serves the front in the foreground until SIGINT or SIGTERM (then finishes the requests in
         flight). Prints a line when each service listens and each time a host leaves or rejoins a
         pool; writes the front's state ({"services": [{"service", "listen", "members": [{"host",
         "address", "in_pool", "why", "requests"}]}]}) to <state>/front/ENV.json every second.
haproxy  writes the equivalent HAProxy configuration (stdout, or FILE with -o): a frontend and a
         backend per service with the same health check, interval, fall and rise. A health check's
         API key is read by HAProxy from its environment (VILLAGER_FRONT_<SERVICE>_KEY), never
         written into the file. Check it with `haproxy -c -f FILE`.

options:
  -c, --config FILE   the config file (default ./villager.toml)
  --json              (run) one JSON object per line instead of text: {"event": "listening"|"joined"|"left", ...}
  -o, --output FILE   (haproxy) write to FILE (mode 0644) instead of stdout

exit: 0 stopped by a signal / written, 1 a listener could not bind or a key is missing, 2 usage.
)";

volatile sig_atomic_t g_stop = 0;
void on_signal(int) {
  g_stop = 1;
}

Result<const config::EnvironmentConfig*> front_environment(const config::Config& cfg,
                                                           const std::string& name) {
  const config::EnvironmentConfig* env = cfg.environment(name);
  if (!env) return InvalidArgument("no environment '" + name + "' in " + cfg.file.string());
  if (env->target != config::TargetKind::kSsh)
    return InvalidArgument("environment '" + name + "' has target \"" +
                           std::string(config::target_kind_name(env->target)) +
                           "\": a front balances the hosts of a target = \"ssh\" environment");
  if (!env->ssh.front.configured())
    return InvalidArgument("environment '" + name + "' has no front: add [environments." + name +
                           ".front] listen = { SERVICE = \"HOST:PORT\" } to " + cfg.file.string() +
                           " (docs/targets/ssh.md, \"The front\")");
  return env;
}

int run_front(const config::Config& cfg, const config::EnvironmentConfig& env, bool as_json) {
  auto services = front::front_services(cfg, env, environment_secret_lookup(cfg, env.name));
  if (!services) return report_error(services.error(), kExitFailed);
  const config::FrontConfig& f = env.ssh.front;
  std::mutex out_mu;  // change lines come from the checker thread
  auto on_change = [&](const front::MemberChange& c) {
    std::lock_guard<std::mutex> lock(out_mu);
    if (as_json) {
      std::cout << json{{"event", c.in_pool ? "joined" : "left"},
                        {"service", c.service},
                        {"host", c.host},
                        {"why", c.why}}
                       .dump()
                << std::endl;
    } else if (c.in_pool) {
      std::cout << c.service << ": " << c.host << " in the pool" << std::endl;
    } else {
      std::cout << c.service << ": " << c.host << " out of the pool (" << c.why << ")" << std::endl;
    }
  };
  front::Front fr(std::move(*services), {f.check_interval, f.check_timeout, f.fall, f.rise}, on_change);
  if (Status st = fr.start(); !st.ok())
    return report_error(st.error().context("front " + env.name), kExitFailed);
  {
    std::lock_guard<std::mutex> lock(out_mu);
    const json state = fr.state();
    for (const auto& s : state["services"]) {
      if (as_json)
        std::cout
            << json{{"event", "listening"}, {"service", s.at("service")}, {"listen", s.at("listen")}}.dump()
            << std::endl;
      else
        std::cout << s["service"].get<std::string>() << ": listening on http://"
                  << s["listen"].get<std::string>() << "/" << std::endl;
    }
  }
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  const auto state_file = cfg.state_dir() / "front" / (env.name + ".json");
  std::error_code ec;
  std::filesystem::create_directories(state_file.parent_path(), ec);
  bool warned = false;
  while (!g_stop) {
    if (Status st = write_file_atomic(state_file, fr.state().dump(2) + "\n"); !st.ok() && !warned) {
      std::cerr << "villager: front: " << st.error().message << " (the front keeps serving)\n";
      warned = true;
    }
    for (int i = 0; i < 10 && !g_stop; ++i) usleep(100 * 1000);
  }
  fr.stop();
  (void)write_file_atomic(state_file, fr.state().dump(2) + "\n");
  std::cerr << "villager: front " << env.name << " stopped\n";
  return kExitOk;
}

int write_haproxy(const config::Config& cfg, const config::EnvironmentConfig& env, const Args& args) {
  std::string text = front::haproxy_config(cfg, env);
  if (!args.has("output")) {
    std::cout << text;
    return kExitOk;
  }
  std::string out = args.get("output", "");
  if (Status st = write_file_atomic(out, text); !st.ok()) return report_error(st.error(), kExitFailed);
  std::cerr << "villager: wrote " << out << "; check it with `haproxy -c -f " << out << "`\n";
  return kExitOk;
}

int run_front_command(const std::vector<std::string>& argv) {
  auto args = Args::parse(argv, {kConfigFlag, {"json", false}, {"output", true, 'o'}});
  if (!args) return report_error(args.error(), kExitUsage);
  if (args->help()) return print_help(kHelp);
  const auto& pos = args->positionals();
  if (pos.size() != 2 || (pos[0] != "run" && pos[0] != "haproxy"))
    return report_error("usage: villager front run|haproxy ENV (see villager front --help)", kExitUsage);
  auto cfg = load_project(*args);
  if (!cfg) return report_error(cfg.error(), kExitUsage);
  auto env = front_environment(*cfg, pos[1]);
  if (!env) return report_error(env.error(), kExitUsage);
  if (pos[0] == "run") return run_front(*cfg, **env, args->has("json"));
  return write_haproxy(*cfg, **env, *args);
}

}  // namespace

const Command kFrontCommand = {"front", "the load-balancing front of a fleet, or its HAProxy config", kHelp,
                               run_front_command};

}  // namespace villager::cli
