#pragma once
// DashboardServer: `villager dashboard`'s HTTP server. Serves the embedded UI (no token needed: it holds
// no data), the JSON API under /api/v1 (a token or a session), the event stream /api/v1/events, and the
// operator actions (POST, CSRF-checked, through the CLI's own code path, audited with who). Runs on the
// agent's ControlServer: a thread per connection up to its cap, a deadline on every read and write;
// its own one (`villager dashboard`, at "/") or the agent's control address (`villager agent`, under
// "/ui"). The page uses relative paths only, so it works under either. docs/dashboard.md.

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "agent/control_server.h"
#include "cli/dashboard_auth.h"
#include "config/config.h"

namespace villager::cli {

class DashboardServer {
 public:
  // How often the event stream looks at the store for something new, and sends a keep-alive.
  static constexpr std::chrono::milliseconds kEventPoll{1000};
  static constexpr int kKeepAliveEvery = 15;  // polls

  // `prefix` is where the UI and its API are mounted: "" (the page at "/", the API at "/api/v1") or a
  // path such as "/ui" (the page at "/ui/", the API at "/ui/api/v1").
  DashboardServer(config::Config config, DashboardAuth auth, std::string prefix = "");
  // Registers the UI and API routes under the prefix on `server`, which must not be started yet.
  void add_routes(agent::ControlServer& server);
  // Serves on a server of its own (`villager dashboard`): HTTPS with `tls`'s certificates when given
  // (the session cookie is then Secure), else plain HTTP.
  Status start(const std::string& host, uint16_t port, std::shared_ptr<proxy::CertStore> tls = nullptr);
  uint16_t port() const { return server_.port(); }
  void stop() { server_.stop(); }

 private:
  using Request = agent::ControlRequest;
  using Response = agent::ControlResponse;
  // The principal of the request, or the 401 to send.
  std::optional<Principal> principal(const Request& req, Response& denied);
  void add_read_route(agent::ControlServer& server, const std::string& path,
                      Response (DashboardServer::*handler)(const Request&));

  Response on_asset(const Request& req);
  Response on_session_open(const Request& req);
  Response on_session_get(const Request& req);
  Response on_session_close(const Request& req);
  Response on_environments(const Request& req);
  Response on_deployments(const Request& req);
  Response on_deployment(const Request& req);
  Response on_rollbacks(const Request& req);
  Response on_uptime(const Request& req);
  Response on_report(const Request& req);
  Response on_review(const Request& req);
  Response on_audit(const Request& req);
  Response on_events(const Request& req);
  Response on_rollback_action(const Request& req);
  // What every action request carries once it is allowed: who, and the environment (and service) named
  // in its JSON body. nullopt with `refused` set (401, 403, 400) otherwise.
  struct Action {
    Principal principal;
    std::string environment;
    std::vector<std::string> services;  // the body's "service", when given
    nlohmann::json body;
  };
  std::optional<Action> action(const Request& req, const std::string& verb, Response& refused);
  // The dashboard's own audit event of an action ("dashboard.<verb>"), with its outcome.
  void audit_action(const Action& a, const std::string& verb, const nlohmann::json& result);
  // A held canary (on_inconclusive = "hold") promoted, as `villager promote` does.
  Response on_promote_action(const Request& req);
  // A canary aborted, held or running, as `villager abort` does.
  Response on_abort_action(const Request& req);
  // The session cookie's Path: the mount, so the agent's /ui session is not sent to other paths.
  std::string cookie_path() const { return prefix_.empty() ? "/" : prefix_; }

  config::Config config_;
  DashboardAuth auth_;
  std::string prefix_;
  agent::ControlServer server_;  // used by start() only
  bool secure_ = false;          // served over TLS: Secure cookies
  std::mutex action_mu_;         // one action at a time: two rollbacks of one environment must not interleave
};

// Whether `host` is a loopback address (127.0.0.0/8, ::1, localhost).
bool is_loopback_host(const std::string& host);
// The value of `key` in a query string "a=1&b=two%20words" (percent- and '+'-decoded); "" when absent.
std::string query_param(const std::string& query, const std::string& key);

}  // namespace villager::cli
