#include <iostream>

#include "agent/agent.h"
#include "base/clock.h"
#include "base/log.h"
#include "cli/commands.h"
#include "cli/dashboard_server.h"
#include "cli/pipeline_hooks.h"
#include "cli/project.h"
#include "cli/release_channel.h"
#include "targets/control_client.h"
#include "targets/tokens.h"

namespace villager::cli {

namespace {

constexpr const char* kAgentUiPrefix = "/ui";

constexpr std::string_view kHelp = R"(usage: villager agent [-c FILE] [--stop-releases-on-exit] [--threads N]
       villager agent --fleet-host ENV --state-dir DIR [--control ADDR] [-c FILE]
       villager agent stop [-c FILE] [--releases]

Runs the agent in the foreground: an edge proxy on every service's listen address of every
`local` environment, the supervisor of the release processes, and the control API (on
[agent] control, default 127.0.0.1:7070) that deploy, rollback and status use. Logs go to
stderr, one line per event. The control address also serves the dashboard under /ui (its UI and
API, docs/dashboard.md; the same tokens as `villager dashboard`) when it is a loopback address.

On SIGHUP it reads the TLS certificates again ([agent] tls_cert; new handshakes get them).
On SIGTERM or SIGINT it stops accepting, lets in-flight requests finish, and exits. Releases
keep running (each in its own process group) and the next agent re-adopts them, unless
--stop-releases-on-exit is given. `kill -9` of the agent never stops a release.

`villager agent stop` asks a running agent to exit (with --releases: stopping every release).

options:
  -c, --config FILE          the config file (default ./villager.toml)
  --threads N                proxy threads per listener (default 1)
  --stop-releases-on-exit    stop every release when the agent exits
  --fleet-host ENV           run as one host of the ssh environment ENV: serve only ENV, as a
                             local environment (`villager hosts setup` starts it this way)
  --state-dir DIR            with --fleet-host: the host's state folder (absolute)
  --control ADDR             with --fleet-host: the control API address (default 127.0.0.1:7170)
)";

int run_stop(const std::vector<std::string>& argv) {
  auto args = Args::parse(argv, {kConfigFlag, {"releases"}});
  if (!args) return report_error(args.error(), kExitUsage);
  if (args->help()) return print_help(kHelp);
  auto cfg = load_project(*args);
  if (!cfg) return report_error(cfg.error(), kExitUsage);
  auto token = targets::read_token(cfg->state_dir(), targets::kAgentTokenName);
  if (!token) return report_error(token.error(), kExitFailed);
  targets::ControlClient client(cfg->agent.control, *token);
  auto r = client.call_ok("POST", "/v1/shutdown", args->has("releases") ? "{\"stop_releases\":true}" : "{}");
  if (!r) return report_error(r.error(), kExitFailed);
  // Wait until the agent is gone so a caller can rely on it.
  for (int i = 0; i < 600; ++i) {
    auto h = client.call("GET", "/v1/health", "", std::chrono::milliseconds(500));
    if (!h) break;
    usleep(50'000);
  }
  std::cout << "agent stopped\n";
  return kExitOk;
}

// After the agent rolled back on its own (deploy --no-wait), what `villager rollback` does after its swap:
// smoke-test the restored release, mark it known-good when it passes, close the deployment row, write
// the review document and tell the release channel. Runs on a thread of the agent, with its own store
// connection.
void follow_up_watch_rollback(const config::Config& config, const agent::WatchRollback& r) {
  auto fail = [&](const std::string& what) {
    log_event(LogLevel::kError, "agent", "watch.follow_up_failed",
              {{"env", r.environment}, {"service", r.service}, {"error", what}});
  };
  auto st = store::Store::open(config.state_dir());
  if (!st) return fail(st.error().message);
  store::Store& store = **st;
  pipeline::DeployHooks hooks = make_deploy_hooks(config, r.environment, store);
  ReleaseChannel channel(config, store, "agent");
  channel.attach(hooks);

  // The swap is done; the rest is what `villager rollback` does after its own.
  std::vector<pipeline::ServiceResult> restored{
      {r.service, r.version, r.digest, r.from_digest, r.from_version, r.deployment_id, "running"}};
  Clock& clock = real_clock();
  const std::string trigger = "automatic rollback by the agent: " + r.reason;
  Status smoked = pipeline::finish_rollback(store, r.environment, restored, {{r.service, r.swap_ms}}, hooks,
                                            clock, clock.steady_now() - std::chrono::milliseconds(r.swap_ms),
                                            "agent", trigger, {});
  auto reviews = write_reviews(config, store, restored, trigger, [](const std::string&) {});
  channel.status_update(
      r.environment, "automatic rollback " + r.environment,
      smoked.ok() ? "rolled back" : "rolled back; the restored release FAILS the smoke suite", restored,
      reviews);
  channel.finish();
}

int run_agent_cmd(const std::vector<std::string>& argv) {
  if (!argv.empty() && argv[0] == "stop") return run_stop({argv.begin() + 1, argv.end()});
  auto args = Args::parse(argv, {kConfigFlag,
                                 {"stop-releases-on-exit"},
                                 {"threads", true},
                                 {"fleet-host", true},
                                 {"state-dir", true},
                                 {"control", true}});
  if (!args) return report_error(args.error(), kExitUsage);
  if (args->help()) return print_help(kHelp);
  if (!args->positionals().empty())
    return report_error("unexpected argument '" + args->positionals()[0] + "'", kExitUsage);
  auto cfg = load_project(*args);
  if (!cfg) return report_error(cfg.error(), kExitUsage);
  if (args->has("fleet-host")) {
    const std::string env = args->get("fleet-host", "");
    auto control = config::parse_host_port(args->get(
        "control",
        "127.0.0.1:" + std::to_string(cfg->environment(env) ? cfg->environment(env)->ssh.agent_port : 7170)));
    if (!control) return report_error(control.error().context("--control"), kExitUsage);
    if (auto s = config::as_fleet_host(*cfg, env, args->get("state-dir", ""), *control); !s.ok())
      return report_error(s.error(), kExitUsage);
  } else if (args->has("state-dir") || args->has("control")) {
    return report_error("--state-dir and --control go with --fleet-host ENV", kExitUsage);
  }
  agent::AgentOptions opts;
  opts.stop_releases_on_exit = args->has("stop-releases-on-exit");
  opts.proxy_threads = std::atoi(args->get("threads", "1").c_str());
  if (opts.proxy_threads < 1 || opts.proxy_threads > 64)
    return report_error("--threads must be 1..64", kExitUsage);
  opts.after_watch_rollback = [&cfg](const agent::WatchRollback& r) { follow_up_watch_rollback(*cfg, r); };
  // The dashboard under /ui: this host's own agent only (a fleet host's state is its own, reached
  // through a forward), and only on loopback, as `villager dashboard` refuses other binds without TLS.
  std::unique_ptr<DashboardServer> dashboard;
  if (!args->has("fleet-host")) {
    if (!is_loopback_host(cfg->agent.control.host)) {
      log_event(LogLevel::kWarn, "agent", "ui.disabled",
                {{"reason", "the control address is not loopback and this build serves no TLS"},
                 {"control", cfg->agent.control.to_string()}});
    } else {
      auto auth = DashboardAuth::load(cfg->state_dir());
      if (!auth) return report_error(auth.error().context("the dashboard under /ui"), kExitFailed);
      dashboard = std::make_unique<DashboardServer>(*cfg, std::move(*auth), kAgentUiPrefix);
      opts.extra_routes = [&dashboard](agent::ControlServer& server) { dashboard->add_routes(server); };
    }
  }
  auto s = agent::run_agent(*cfg, opts);
  if (!s.ok()) return report_error(s.error(), kExitFailed);
  return kExitOk;
}

}  // namespace

const Command kAgentCommand = {"agent", "run the host agent: edge proxy, supervisor, control API", kHelp,
                               run_agent_cmd};

}  // namespace villager::cli
