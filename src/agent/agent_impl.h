#pragma once
// Internal to the agent module: the Agent class and what its parts share. The class is split by concern:
//   agent.cc           lifecycle, the store, listeners and routes, secrets, slots restored at start
//   control_routes.cc  the control API the CLI drives (one handler per route) and the rollback rehearsal
//   monitoring.cc      probes, alarms, the watch handed over by deploy --no-wait, /metrics
// Nothing outside src/agent/ includes this; agent.h is the module's interface.

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>
#include <tuple>

#include "agent/agent.h"
#include "agent/control_server.h"
#include "agent/supervisor.h"
#include "base/fs.h"
#include "base/hash.h"
#include "base/log.h"
#include "base/redact.h"
#include "base/strings.h"
#include "base/subprocess.h"
#include "monitor/alarms.h"
#include "monitor/alert.h"
#include "monitor/metrics.h"
#include "monitor/probes.h"
#include "monitor/prometheus.h"
#include "notify/notifier.h"
#include "proxy/proxy.h"
#include "secrets/resolve.h"
#include "store/store.h"
#include "targets/control_api.h"
#include "targets/tokens.h"

namespace villager::agent::internal {

using json = nlohmann::json;

namespace api = targets::control_api;

// A slot in the control API's words (targets/control_api.h, the local target reads it back).
inline json slot_json(const SlotStatus& s) {
  targets::SlotInfo info{
      s.key.service, s.key.digest, s.version, s.role,          s.port,       static_cast<int>(s.pid),
      s.weight,      s.restarts,   s.healthy, s.started_at_ms, std::string()};
  return api::slot_to_json(info);
}

// The proxy names releases by a cookie-safe token: the digest's hex.
inline std::string release_id(const std::string& digest) {
  return digest_hex(digest);
}

// A rehearsal slot runs under "<env>~rehearsal": its own data and log folders, never a public route.
inline std::string rehearsal_env(const std::string& env) {
  return env + "~rehearsal";
}
inline bool is_rehearsal_env(const std::string& env) {
  return env.find('~') != std::string::npos;
}
// How often the monitor thread ticks the metric windows (probes follow each env's probe_interval).
inline constexpr std::chrono::milliseconds kMonitorTick{1000};

inline ControlResponse ok_json(const json& j) {
  return {200, j.dump(), "application/json"};
}

// One public listener: its route table and its proxy.
struct Listener {
  std::string env;
  std::string service;
  std::string address;
  proxy::Routes routes;
  std::unique_ptr<monitor::Recorder> recorder;  // the proxy's observer records here; outlives the proxy
  std::unique_ptr<proxy::Proxy> proxy;
};

// How long request metrics are kept for windows: the longest alarm window, canary step or 30 min.
inline monitor::RegistryOptions registry_options(const config::Config& c) {
  monitor::RegistryOptions o;
  config::Millis longest{30 * 60 * 1000};
  for (const auto& a : c.monitor.alarms) longest = std::max(longest, a.window);
  for (const auto& e : c.environments) longest = std::max(longest, e.step_interval);
  o.retention = longest;
  return o;
}

class Agent {
 public:
  Agent(const config::Config& config, const AgentOptions& options)
      : config_(config),
        options_(options),
        supervisor_(config, hooks()),
        metrics_(real_clock(), registry_options(config)),
        restarts_(real_clock()),
        source_(metrics_, &restarts_,
                [this](const std::string& env, const std::string& service, config::Millis w) {
                  auto it = probers_.find(env);
                  return it == probers_.end() ? std::nullopt : it->second->availability(env, service, w);
                }) {}

  Status run();

 private:
  Supervisor::Hooks hooks();
  Status open_store();
  Status restore_slots();
  Status start_listeners();
  Status start_redirect();
  // True when `env`'s listeners serve HTTPS ([agent] tls_cert and tls_environments).
  bool serves_tls(const std::string& env) const;
  // SIGHUP: the certificates are read again; on failure the ones in use stay (logged).
  void reload_certificates();
  void register_routes();
  // The control API, one handler per route (control_routes.cc).
  ControlResponse on_health(const ControlRequest& req);
  ControlResponse on_metrics(const ControlRequest& req);
  ControlResponse on_alarms(const ControlRequest& req);
  ControlResponse on_watch(const ControlRequest& req);
  ControlResponse on_window(const ControlRequest& req);
  ControlResponse on_synthetic(const ControlRequest& req);
  ControlResponse on_status(const ControlRequest& req);
  ControlResponse on_start(const ControlRequest& req);
  ControlResponse on_routes(const ControlRequest& req);
  ControlResponse on_promote(const ControlRequest& req);
  ControlResponse on_rehearsal_start(const ControlRequest& req);
  ControlResponse on_rehearsal_finish(const ControlRequest& req);
  ControlResponse on_stop(const ControlRequest& req);
  ControlResponse on_shutdown(const ControlRequest& req);
  Status apply_routes(const std::string& env, const std::string& service,
                      const std::map<std::string, int>& weights);
  Listener* listener(const std::string& env, const std::string& service);
  // Checks the bearer token against the environment's; returns an error response or nullopt when allowed.
  std::optional<ControlResponse> authorize(const ControlRequest& req, const std::string& env);
  Result<std::map<std::string, std::string>> secrets_for(const std::string& env, const std::string& service,
                                                         const std::string& digest);
  void audit(const std::string& kind, const std::string& subject, const json& data);
  Result<json> rehearse_swap(const std::string& env, const std::string& service, const SlotKey& spare);
  // Monitoring (docs/monitor.md): alarm evaluators and alert channels from the config, then a thread that
  // ticks the metric windows every second and probes + evaluates each environment every probe_interval.
  Status start_monitoring();
  void monitor_loop();
  void probe_and_evaluate(const config::EnvironmentConfig& env);
  std::vector<monitor::ProbeTarget> probe_targets(const config::EnvironmentConfig& env);
  monitor::ProbeTarget probe_target(const config::EnvironmentConfig& env, const config::ServiceConfig& svc,
                                    std::string kind, std::string release, const std::string& base);
  std::string serving_release(const std::string& env, const std::string& service);
  std::string metrics_text();
  std::string proxy_metrics_text();  // per-listener proxy counters: upgraded connections, TLS failures
  // deploy --no-wait hands its watch to the agent: a critical alarm firing before `until` routes the
  // service back to the release that served before, records a rollback and stops the candidate.
  struct Watch {
    std::string candidate;  // digests
    std::string previous;
    std::chrono::steady_clock::time_point until;
  };
  void rollback_watched(const std::string& env, const std::string& service, const Watch& w,
                        const std::string& reason);

  const config::Config& config_;
  AgentOptions options_;
  Supervisor supervisor_;
  std::mutex store_mu_;
  std::unique_ptr<store::Store> store_;        // Guarded by store_mu_.
  std::map<std::string, std::string> tokens_;  // env -> token; read-only after start
  std::string agent_token_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::shared_ptr<proxy::CertStore> certs_;  // [agent] tls_cert/tls_key, shared by the HTTPS listeners
  proxy::Routes redirect_routes_;            // empty: the redirect listener routes nothing
  std::unique_ptr<proxy::Proxy> redirect_;   // [agent] redirect_http
  std::mutex routes_mu_;  // serialises route changes so weights and the table never disagree
  ControlServer control_;
  monitor::MetricsRegistry metrics_;
  monitor::RestartTracker restarts_;
  // One per environment; created before the monitor thread starts, never changed after. A Prober stores
  // nothing itself: samples are written under store_mu_.
  std::map<std::string, std::unique_ptr<monitor::Prober>> probers_;
  // Environment/service pairs a release has served since the agent started (probes before: pending).
  // Monitor thread only.
  std::set<std::pair<std::string, std::string>> ever_served_;
  struct ProbeKey {
    std::string value;  // the API key the probe sends; a secret
    std::chrono::steady_clock::time_point resolved_at;
  };
  std::map<std::tuple<std::string, std::string, std::string>, ProbeKey> probe_keys_;  // Monitor thread only.
  monitor::StandardSource source_;
  std::mutex synthetic_mu_;
  // Synthetic canary requests recorded per (env, service, release id). Guarded by synthetic_mu_.
  std::map<std::tuple<std::string, std::string, std::string>, uint64_t> synthetic_;
  std::mutex monitor_mu_;
  std::map<std::string, std::unique_ptr<monitor::AlarmEvaluator>> evaluators_;  // Guarded by monitor_mu_.
  std::map<std::pair<std::string, std::string>, Watch> watches_;                // Guarded by monitor_mu_.
  std::unique_ptr<notify::Notifier> alerts_;  // the alarms' alerts to channels that take them
  std::thread monitor_thread_;
  std::mutex followups_mu_;
  // after_watch_rollback calls, joined before the agent exits. Guarded by followups_mu_.
  std::vector<std::thread> followups_;
  std::atomic<bool> shutdown_{false};
  std::atomic<bool> stop_releases_{false};
};

}  // namespace villager::agent::internal
