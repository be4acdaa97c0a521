#include <signal.h>

#include <iostream>

#include "base/strings.h"
#include "cli/commands.h"
#include "cli/dashboard_server.h"
#include "cli/project.h"
#include "targets/tokens.h"

namespace villager::cli {

namespace {

constexpr std::string_view kHelp = R"(usage: villager dashboard [--listen HOST:PORT]
       villager dashboard tokens

Serves the dashboard: a web UI and its JSON API (/api/v1/..., docs/dashboard.md) over the store,
the environments' targets and the report, with live updates (Server-Sent Events). Prints its URL on
stdout, then serves until interrupted. Nothing is fetched from the network: the UI and its charting
library are in the binary.

Access needs a token from <state>/tokens: dashboard-read.token (read-only, the default role) or
dashboard-operator.token (may roll back), created on first start; a named token
dashboard-<role>-<name>.token (mode 0600) is recorded in the audit log as <name>. The browser signs in
with a token once and gets a session cookie; scripts send `Authorization: Bearer <token>`.
`villager dashboard tokens` creates the default tokens and lists the token files with their roles
(never the tokens).

options:
  --listen HOST:PORT  where to listen (default 127.0.0.1:8790; port 0 = any free port). Only a
                      loopback address is accepted: this build serves no TLS, and a dashboard that
                      can roll back must not be reachable over plain HTTP from other hosts
  -c, --config FILE   the config file (default ./villager.toml)
)";

constexpr const char* kDefaultListen = "127.0.0.1:8790";

volatile sig_atomic_t g_stop = 0;
void on_signal(int) {
  g_stop = 1;
}

int list_tokens(const config::Config& cfg) {
  auto auth = DashboardAuth::load(cfg.state_dir());
  if (!auth) return report_error(auth.error(), kExitFailed);
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(cfg.state_dir() / "tokens", ec)) {
    std::string f = e.path().filename().string();
    if (starts_with(f, "dashboard-") && e.path().extension() == ".token")
      std::cout << e.path().string() << "\n";
  }
  return kExitOk;
}

int run_dashboard(const std::vector<std::string>& argv) {
  auto args = Args::parse(argv, {kConfigFlag, {"listen", true}});
  if (!args) return report_error(args.error(), kExitUsage);
  if (args->help()) return print_help(kHelp);
  auto cfg = load_project(*args);
  if (!cfg) return report_error(cfg.error(), kExitUsage);
  const auto& pos = args->positionals();
  if (pos.size() == 1 && pos[0] == "tokens") return list_tokens(*cfg);
  if (!pos.empty())
    return report_error("unknown dashboard subcommand '" + pos[0] + "' (only 'tokens')", kExitUsage);
  std::string listen = args->get("listen", kDefaultListen);
  auto colon = listen.rfind(':');
  if (colon == std::string::npos)
    return report_error("--listen wants HOST:PORT, got '" + listen + "'", kExitUsage);
  std::string host = listen.substr(0, colon);
  int port = std::atoi(listen.substr(colon + 1).c_str());
  if (port < 0 || port > 65535) return report_error("--listen: bad port in '" + listen + "'", kExitUsage);
  if (host == "localhost") host = "127.0.0.1";
  if (!is_loopback_host(host))
    return report_error("--listen " + listen +
                            ": refusing a non-loopback address without TLS (this build serves the dashboard "
                            "over plain HTTP only; put it behind a TLS proxy on loopback)",
                        kExitUsage);
  auto auth = DashboardAuth::load(cfg->state_dir());
  if (!auth) return report_error(auth.error(), kExitFailed);
  DashboardServer server(*cfg, std::move(*auth));
  if (Status s = server.start(host, static_cast<uint16_t>(port)); !s.ok())
    return report_error(s.error(), kExitFailed);
  std::cout << "http://" << host << ":" << server.port() << "/" << std::endl;
  std::cerr << "villager: dashboard: sign in with the token in "
            << targets::token_path(cfg->state_dir(), "dashboard-read").string() << " (read-only) or "
            << targets::token_path(cfg->state_dir(), "dashboard-operator").string() << " (operator)\n";
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  while (!g_stop) pause();
  server.stop();
  return kExitOk;
}

}  // namespace

const Command kDashboardCommand = {
    "dashboard", "a web UI and JSON API: environments, canaries, rollbacks, report", kHelp, run_dashboard};

}  // namespace villager::cli
