#include <signal.h>
#include <time.h>

#include <chrono>
#include <iostream>

#include "base/strings.h"
#include "cli/commands.h"
#include "cli/dashboard_server.h"
#include "cli/project.h"
#include "proxy/proxy.h"
#include "targets/tokens.h"

namespace villager::cli {

namespace {

constexpr std::string_view kHelp =
    R"(usage: villager dashboard [--listen HOST:PORT] [--tls-cert FILE --tls-key FILE]
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
  --listen HOST:PORT  where to listen (default 127.0.0.1:8790; port 0 = any free port). A
                      non-loopback address needs --tls-cert and --tls-key: a dashboard that can roll
                      back is never reachable over plain HTTP from other hosts
  --tls-cert FILE     serve HTTPS with this PEM certificate (chain after it); TLS 1.2 and 1.3 only.
                      SIGHUP, or a change to either file, loads them again for new connections
  --tls-key FILE      its PEM private key: refused when group or others may read it
  -c, --config FILE   the config file (default ./villager.toml)
)";

constexpr const char* kDefaultListen = "127.0.0.1:8790";

volatile sig_atomic_t g_stop = 0;
volatile sig_atomic_t g_reload = 0;
void on_signal(int) {
  g_stop = 1;
}
void on_reload(int) {
  g_reload = 1;
}

// How often the certificate files are looked at for a renewal.
constexpr std::chrono::seconds kCertCheck{2};

// SIGHUP loads the files again whatever they look like; otherwise only when they changed. A set that
// fails to load leaves the one in use, and says why.
void reload_certificates(proxy::CertStore& certs, bool asked) {
  if (asked) {
    Status s = certs.reload();
    std::cerr << "villager: dashboard: "
              << (s.ok() ? "certificates reloaded" : "certificates not reloaded: " + s.error().message)
              << "\n";
    return;
  }
  auto changed = certs.reload_if_changed();
  if (!changed)
    std::cerr << "villager: dashboard: certificates not reloaded: " << changed.error().message << "\n";
  else if (*changed)
    std::cerr << "villager: dashboard: certificates reloaded (the files changed)\n";
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
  auto args = Args::parse(argv, {kConfigFlag, {"listen", true}, {"tls-cert", true}, {"tls-key", true}});
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
  std::string cert = args->get("tls-cert"), key = args->get("tls-key");
  if (cert.empty() != key.empty())
    return report_error("--tls-cert and --tls-key go together (a certificate and its private key)",
                        kExitUsage);
  if (!is_loopback_host(host) && cert.empty())
    return report_error("--listen " + listen +
                            ": refusing a non-loopback address without TLS: give --tls-cert and --tls-key, "
                            "or put the dashboard behind a TLS proxy on loopback",
                        kExitUsage);
  std::shared_ptr<proxy::CertStore> tls;
  if (!cert.empty()) {
    auto opened = proxy::open_cert_files({{cert, key}});
    if (!opened) return report_error(opened.error().context("--tls-cert/--tls-key"), kExitUsage);
    tls = *opened;
  }
  auto auth = DashboardAuth::load(cfg->state_dir());
  if (!auth) return report_error(auth.error(), kExitFailed);
  DashboardServer server(*cfg, std::move(*auth));
  if (Status s = server.start(host, static_cast<uint16_t>(port), tls); !s.ok())
    return report_error(s.error(), kExitFailed);
  bool v6 = host.find(':') != std::string::npos;
  std::cout << (tls ? "https://" : "http://") << (v6 ? "[" + host + "]" : host) << ":" << server.port() << "/"
            << std::endl;
  std::cerr << "villager: dashboard: sign in with the token in "
            << targets::token_path(cfg->state_dir(), "dashboard-read").string() << " (read-only) or "
            << targets::token_path(cfg->state_dir(), "dashboard-operator").string() << " (operator)\n";
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  signal(SIGHUP, on_reload);
  while (!g_stop) {
    if (!tls) {
      pause();
      continue;
    }
    timespec wait{kCertCheck.count(), 0};
    ::nanosleep(&wait, nullptr);  // a signal (SIGHUP, SIGTERM) cuts it short
    reload_certificates(*tls, g_reload != 0);
    g_reload = 0;
  }
  server.stop();
  return kExitOk;
}

}  // namespace

const Command kDashboardCommand = {
    "dashboard", "a web UI and JSON API: environments, canaries, rollbacks, report", kHelp, run_dashboard};

}  // namespace villager::cli
