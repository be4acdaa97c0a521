#include "agent/agent.h"

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
#include "proxy/proxy.h"
#include "secrets/resolve.h"
#include "store/store.h"
#include "targets/tokens.h"

namespace villager::agent {

namespace {

using json = nlohmann::json;

store::SlotState to_store(SlotRole r) {
  switch (r) {
    case SlotRole::kStarting:
      return store::SlotState::kStarting;
    case SlotRole::kServing:
      return store::SlotState::kServing;
    case SlotRole::kWarm:
      return store::SlotState::kWarm;
    case SlotRole::kStopped:
      return store::SlotState::kStopped;
  }
  return store::SlotState::kStopped;
}

SlotRole from_store(store::SlotState s) {
  switch (s) {
    case store::SlotState::kStarting:
      return SlotRole::kStarting;
    case store::SlotState::kServing:
      return SlotRole::kServing;
    case store::SlotState::kWarm:
      return SlotRole::kWarm;
    case store::SlotState::kStopped:
      return SlotRole::kStopped;
  }
  return SlotRole::kStopped;
}

json slot_json(const SlotStatus& s) {
  return {{"service", s.key.service},
          {"digest", s.key.digest},
          {"version", s.version},
          {"port", s.port},
          {"pid", s.pid},
          {"role", std::string(to_string(s.role))},
          {"weight", s.weight},
          {"restarts", s.restarts},
          {"healthy", s.healthy},
          {"started_at_ms", s.started_at_ms}};
}

// The proxy names releases by a cookie-safe token: the digest's hex.
std::string release_id(const std::string& digest) {
  return digest_hex(digest);
}

// A rehearsal slot runs under "<env>~rehearsal": its own data and log folders, never a public route.
std::string rehearsal_env(const std::string& env) {
  return env + "~rehearsal";
}
bool is_rehearsal_env(const std::string& env) {
  return env.find('~') != std::string::npos;
}
// How often the monitor thread ticks the metric windows (probes follow each env's probe_interval).
constexpr std::chrono::milliseconds kMonitorTick{1000};

ControlResponse ok_json(const json& j) {
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
monitor::RegistryOptions registry_options(const config::Config& c) {
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
  void register_routes();
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
  std::mutex monitor_mu_;
  std::map<std::string, std::unique_ptr<monitor::AlarmEvaluator>> evaluators_;  // Guarded by monitor_mu_.
  std::map<std::pair<std::string, std::string>, Watch> watches_;                // Guarded by monitor_mu_.
  std::unique_ptr<monitor::AlertDispatcher> alerts_;
  std::thread monitor_thread_;
  std::mutex followups_mu_;
  // after_watch_rollback calls, joined before the agent exits. Guarded by followups_mu_.
  std::vector<std::thread> followups_;
  std::atomic<bool> shutdown_{false};
  std::atomic<bool> stop_releases_{false};
};

Supervisor::Hooks Agent::hooks() {
  Supervisor::Hooks h;
  h.on_change = [this](const SlotStatus& s) {
    // Rehearsal slots are private and short-lived: never recorded, never re-adopted.
    if (is_rehearsal_env(s.key.env)) return;
    std::lock_guard lock(store_mu_);
    if (!store_) return;
    if (s.role == SlotRole::kStopped) {
      (void)store::delete_slot(*store_, s.key.env, s.key.service, s.key.digest);
      return;
    }
    store::Slot row;
    row.environment = s.key.env;
    row.service = s.key.service;
    row.digest = s.key.digest;
    row.version = s.version;
    row.port = s.port;
    row.pid = s.pid;
    row.pid_start_time = static_cast<int64_t>(s.start_time);
    row.state = to_store(s.role);
    row.weight = s.weight;
    if (auto st = store::upsert_slot(*store_, row); !st.ok())
      log_event(LogLevel::kError, "agent", "store.write_failed", {{"error", st.error().message}});
  };
  h.on_event = [this](const std::string& kind, const SlotStatus& s, const std::string& detail) {
    if (kind == "restarted") restarts_.note(s.key.env, s.key.service);
    audit("slot." + kind, s.key.env + "/" + s.key.service,
          {{"digest", s.key.digest}, {"version", s.version}, {"restarts", s.restarts}, {"detail", detail}});
  };
  return h;
}

void Agent::audit(const std::string& kind, const std::string& subject, const json& data) {
  std::lock_guard lock(store_mu_);
  if (!store_) return;
  if (auto r = store::append_audit(*store_, {"agent", kind, subject, data.dump()}); !r)
    log_event(LogLevel::kError, "agent", "audit.write_failed", {{"error", r.error().message}});
}

Result<json> Agent::rehearse_swap(const std::string& env, const std::string& service,
                                  const SlotKey& spare_key) {
  auto spare = supervisor_.slot(spare_key);
  if (!spare || spare->port == 0)
    return NotFound("no spare slot of " + spare_key.digest + " (call rehearsal/start first)");
  std::optional<SlotStatus> serving;
  for (const auto& s : supervisor_.slots())
    if (s.key.env == env && s.key.service == service && s.role == SlotRole::kServing) serving = s;
  if (!serving)
    return FailedPrecondition("nothing serves " + env + "/" + service + " to rehearse a rollback from");
  const auto* svc = config_.service(service);
  auto secrets = secrets_for(env, service, serving->key.digest);
  std::string header = secrets ? auth_header(*svc, *secrets) : "";

  proxy::Routes routes;
  std::mutex mu;
  std::string last_release;  // Guarded by mu.
  proxy::ProxyOptions opts;
  opts.listen = "127.0.0.1:0";
  opts.observer = [&](const proxy::RequestRecord& r) {
    std::lock_guard lock(mu);
    last_release = std::string(r.release_id);
  };
  auto table_for = [](const SlotStatus& s) {
    proxy::RouteTable t;
    t.upstreams.push_back({release_id(s.key.digest), "127.0.0.1", static_cast<uint16_t>(s.port), 100});
    return t;
  };
  VILLAGER_RETURN_IF_ERROR(routes.store(table_for(*serving)));
  proxy::Proxy rehearsal_proxy(opts, routes);
  VILLAGER_RETURN_IF_ERROR(rehearsal_proxy.start());
  // Swaps the private route to `to` and waits until a health request is answered by it.
  auto swap_to = [&](const SlotStatus& to) -> Result<int64_t> {
    auto t0 = std::chrono::steady_clock::now();
    VILLAGER_RETURN_IF_ERROR(routes.store(table_for(to)));
    auto deadline = t0 + svc->health.deadline;
    std::string want = release_id(to.key.digest);
    HealthResult h;
    while (std::chrono::steady_clock::now() < deadline) {
      h = check_health(rehearsal_proxy.port(), svc->health_path, svc->health_body, svc->health.timeout,
                       header);
      std::string got;
      {
        std::lock_guard lock(mu);
        got = last_release;
      }
      if (h.ok && got == want)
        return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
            .count();
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return Unavailable("the rehearsal route never reached " + to.key.to_string() + ": " + h.detail);
  };
  auto there = swap_to(*spare);
  auto back = there ? swap_to(*serving) : Result<int64_t>(there.error());
  rehearsal_proxy.stop();
  if (!there) return there.error();
  if (!back) return back.error().context("swapping the rehearsal route back");
  return json{{"swap_ms", *there},
              {"back_ms", *back},
              {"previous", spare_key.digest},
              {"serving", serving->key.digest}};
}

Status Agent::open_store() {
  auto st = store::Store::open(config_.state_dir());
  if (!st) return st.error().context("opening the state store");
  store_ = std::move(*st);
  for (const auto& env : config_.environments) {
    if (env.target != "local") continue;
    auto tok = targets::load_or_create_token(config_.state_dir(), env.name);
    if (!tok) return tok.error();
    tokens_[env.name] = *tok;
    register_secret(*tok);
  }
  for (const auto& env : config_.environments) secrets::register_for_redaction(config_.state_dir(), env.name);
  auto tok = targets::load_or_create_token(config_.state_dir(), targets::kAgentTokenName);
  if (!tok) return tok.error();
  agent_token_ = *tok;
  register_secret(agent_token_);
  return Ok();
}

Listener* Agent::listener(const std::string& env, const std::string& service) {
  for (auto& l : listeners_)
    if (l->env == env && l->service == service) return l.get();
  return nullptr;
}

Status Agent::start_listeners() {
  for (const auto& env : config_.environments) {
    if (env.target != "local") continue;
    for (const auto& [service, hp] : env.listen) {
      auto l = std::make_unique<Listener>();
      l->env = env.name;
      l->service = service;
      l->address = hp.to_string();
      proxy::ProxyOptions opts;
      opts.listen = l->address;
      opts.threads = options_.proxy_threads;
      opts.limits.max_header_bytes = config_.agent.max_header_bytes;
      opts.limits.max_body_bytes = config_.agent.max_body_bytes;
      opts.limits.idle_timeout = config_.agent.idle_timeout;
      opts.limits.upstream_timeout = config_.agent.upstream_timeout;
      l->recorder = metrics_.recorder(env.name, service);
      opts.observer = [rec = l->recorder.get()](const proxy::RequestRecord& r) {
        rec->record(r.release_id, r.status, r.latency_us, r.bytes_in, r.bytes_out);
      };
      l->proxy = std::make_unique<proxy::Proxy>(opts, l->routes);
      if (auto s = l->proxy->start(); !s.ok())
        return s.error().context(env.name + "." + service + " listener");
      log_event(LogLevel::kInfo, "agent", "listener.started",
                {{"env", env.name}, {"service", service}, {"listen", l->address}});
      listeners_.push_back(std::move(l));
    }
  }
  return Ok();
}

// The secrets a release gets: from the environment's secret store, at the versions this release was first
// started with (so a restart or a rollback brings back exactly those), else the latest, which are then
// recorded for the release. Values reach the process only through its environment.
Result<std::map<std::string, std::string>> Agent::secrets_for(const std::string& env,
                                                              const std::string& service,
                                                              const std::string& digest) {
  const auto* svc = config_.service(service);
  std::map<std::string, std::string> out;
  if (!svc) return out;
  auto versions_file = slot_paths(config_.state_dir(), env, service, digest).release_dir.parent_path() /
                       (release_id(digest) + ".secret-versions." + env + ".json");
  std::map<std::string, int> pinned;
  bool have_pinned = false;
  if (auto text = read_file(versions_file); text) {
    auto j = json::parse(*text, nullptr, false);
    if (j.is_object()) {
      for (auto& [k, v] : j.items())
        if (v.is_number_integer()) pinned[k] = v.get<int>();
      have_pinned = true;
    }
  }
  auto resolved =
      secrets::resolve_for_service(config_.state_dir(), env, *svc, have_pinned ? &pinned : nullptr);
  if (!resolved) return resolved.error();
  for (const auto& [k, v] : resolved->values) out[k] = v.reveal();
  if (!have_pinned && !resolved->versions.empty()) {
    json j = json::object();
    for (const auto& [k, v] : resolved->versions) j[k] = v;
    (void)ensure_dir(versions_file.parent_path());
    if (auto st = write_file_atomic(versions_file, j.dump() + "\n"); !st.ok())
      log_event(LogLevel::kWarn, "agent", "secret_versions.write_failed", {{"error", st.error().message}});
  }
  return out;
}

Status Agent::restore_slots() {
  std::vector<store::Slot> rows;
  {
    std::lock_guard lock(store_mu_);
    auto r = store::list_slots(*store_);
    if (!r) return r.error().context("reading slots");
    rows = std::move(*r);
  }
  std::map<std::pair<std::string, std::string>, std::map<std::string, int>> weights;
  for (const auto& row : rows) {
    const auto* env = config_.environment(row.environment);
    if (!env || env->target != "local" || !config_.service(row.service)) continue;
    SlotStatus rec;
    rec.key = {row.environment, row.service, row.digest};
    rec.version = row.version;
    rec.port = row.port;
    rec.pid = static_cast<pid_t>(row.pid);
    rec.role = from_store(row.state);
    rec.weight = row.weight;
    if (rec.role == SlotRole::kStarting) {
      // A candidate of a deploy that died with the previous agent: no one drives it any more, so the
      // deploy is over. Traffic goes back to the serving release (below) and the candidate is stopped.
      if (rec.pid > 0 && process_alive(rec.pid) &&
          process_start_time(rec.pid).value_or(0) == static_cast<unsigned long long>(row.pid_start_time))
        ::kill(rec.pid, SIGTERM);
      log_event(LogLevel::kWarn, "agent", "slot.abandoned", {{"slot", rec.key.to_string()}});
      audit("slot.abandoned", row.environment + "/" + row.service,
            {{"digest", row.digest},
             {"reason", "agent restarted during a deploy; traffic returned to the serving release"}});
      std::lock_guard lock(store_mu_);
      (void)store::delete_slot(*store_, row.environment, row.service, row.digest);
      continue;
    }
    if (rec.role == SlotRole::kServing) rec.weight = 100;
    if (rec.role == SlotRole::kWarm) rec.weight = 0;
    auto secrets = secrets_for(row.environment, row.service, row.digest);
    if (!secrets) {
      log_event(LogLevel::kError, "agent", "slot.adopt_failed",
                {{"slot", rec.key.to_string()}, {"error", secrets.error().message}});
      continue;
    }
    auto st = supervisor_.adopt(rec, static_cast<unsigned long long>(row.pid_start_time), *secrets);
    if (!st) {
      log_event(LogLevel::kError, "agent", "slot.adopt_failed",
                {{"slot", rec.key.to_string()}, {"error", st.error().message}});
      continue;
    }
    weights[{row.environment, row.service}][row.digest] = rec.weight;
  }
  for (const auto& [k, w] : weights) (void)apply_routes(k.first, k.second, w);
  return Ok();
}

Status Agent::apply_routes(const std::string& env, const std::string& service,
                           const std::map<std::string, int>& weights) {
  Listener* l = listener(env, service);
  if (!l) return NotFound("no listener for " + env + "." + service);
  proxy::RouteTable table;
  for (const auto& [digest, w] : weights) {
    if (w <= 0) continue;
    auto slot = supervisor_.slot({env, service, digest});
    if (!slot || slot->port == 0)
      return NotFound("no running release " + digest + " of " + env + "." + service);
    table.upstreams.push_back({release_id(digest), "127.0.0.1", static_cast<uint16_t>(slot->port), w});
  }
  VILLAGER_RETURN_IF_ERROR(l->routes.store(table));
  for (const auto& s : supervisor_.slots()) {
    if (s.key.env != env || s.key.service != service) continue;
    int w = weights.count(s.key.digest) ? weights.at(s.key.digest) : 0;
    if (w != s.weight) (void)supervisor_.set_role(s.key, s.role, w);
    if (w == 0) l->proxy->drain(release_id(s.key.digest));
  }
  return Ok();
}

std::optional<ControlResponse> Agent::authorize(const ControlRequest& req, const std::string& env) {
  if (!config_.environment(env)) return json_error(404, "no environment '" + env + "' in villager.toml");
  std::string token = starts_with(req.authorization, "Bearer ") ? req.authorization.substr(7) : "";
  if (token.empty()) return json_error(401, "missing bearer token");
  auto it = tokens_.find(env);
  if (it != tokens_.end() && constant_time_equal(token, it->second)) return std::nullopt;
  if (constant_time_equal(token, agent_token_)) return std::nullopt;
  for (const auto& [other, t] : tokens_)
    if (constant_time_equal(token, t))
      return json_error(403, "the token of environment '" + other + "' may not act on '" + env + "'");
  return json_error(401, "invalid bearer token");
}

void Agent::register_routes() {
  control_.route("GET", "/v1/health", [](const ControlRequest&) {
    return ok_json({{"status", "ok"}, {"pid", ::getpid()}});
  });

  // Prometheus scrapes without a token: the exposition holds counts and release ids, never secrets.
  control_.route("GET", "/metrics", [this](const ControlRequest&) {
    return ControlResponse{200, metrics_text(), monitor::kPrometheusContentType};
  });

  control_.route("GET", "/v1/env/{env}/alarms", [this](const ControlRequest& req) {
    const std::string& env = req.params[0];
    if (auto denied = authorize(req, env)) return *denied;
    json alarms = json::array();
    json critical = json::object();
    std::lock_guard lock(monitor_mu_);
    auto it = evaluators_.find(env);
    if (it != evaluators_.end()) {
      for (const auto& g : it->second->gauges())
        alarms.push_back({{"alarm", g.alarm},
                          {"service", g.service},
                          {"severity", g.severity},
                          {"state", std::string(monitor::to_string(it->second->state(g.alarm, g.service)))}});
      for (const auto& svc : config_.services) {
        auto firing = it->second->firing_critical(svc.name);
        if (!firing.empty()) critical[svc.name] = firing;
      }
    }
    return ok_json({{"environment", env}, {"alarms", alarms}, {"firing_critical", critical}});
  });

  // deploy --no-wait: watch every service whose serving release has a warm predecessor, for watch_ms.
  control_.route("POST", "/v1/env/{env}/watch", [this](const ControlRequest& req) {
    const std::string& env = req.params[0];
    if (auto denied = authorize(req, env)) return *denied;
    json body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.contains("watch_ms") || !body["watch_ms"].is_number_integer())
      return json_error(400, "body must be JSON with \"watch_ms\"");
    auto until =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(body["watch_ms"].get<int64_t>());
    std::map<std::string, Watch> found;
    for (const auto& s : supervisor_.slots()) {
      if (s.key.env != env) continue;
      if (s.role == SlotRole::kServing) found[s.key.service].candidate = s.key.digest;
      if (s.role == SlotRole::kWarm) found[s.key.service].previous = s.key.digest;
    }
    json watching = json::array();
    std::lock_guard lock(monitor_mu_);
    for (auto& [service, w] : found) {
      if (w.candidate.empty() || w.previous.empty()) continue;
      w.until = until;
      watches_[{env, service}] = w;
      watching.push_back(service);
    }
    return ok_json({{"watching", watching}});
  });

  // Request counts of one release ("" = every release) over the last window_ms: canary analysis input.
  control_.route("POST", "/v1/env/{env}/service/{service}/window", [this](const ControlRequest& req) {
    const std::string &env = req.params[0], &service = req.params[1];
    if (auto denied = authorize(req, env)) return *denied;
    json body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.contains("window_ms") || !body["window_ms"].is_number_integer())
      return json_error(400, "body must be JSON with \"window_ms\" and optionally \"digest\"");
    std::string digest = body.value("digest", "");
    monitor::WindowStats w = metrics_.window(env, service, digest.empty() ? "" : release_id(digest),
                                             config::Millis(body["window_ms"].get<int64_t>()));
    json buckets = json::array();
    for (const auto& [index, count] : w.counts.buckets) buckets.push_back({index, count});
    return ok_json({{"requests", w.counts.requests},
                    {"classes", w.counts.classes},
                    {"bytes_in", w.counts.bytes_in},
                    {"bytes_out", w.counts.bytes_out},
                    {"latency_sum_us", w.counts.latency_sum_us},
                    {"covered_ms", w.covered.count()},
                    {"buckets", buckets}});
  });

  control_.route("GET", "/v1/env/{env}/status", [this](const ControlRequest& req) {
    const std::string& env = req.params[0];
    if (auto denied = authorize(req, env)) return *denied;
    json slots = json::array();
    for (const auto& s : supervisor_.slots())
      if (s.key.env == env) slots.push_back(slot_json(s));
    json listeners = json::array();
    for (const auto& l : listeners_)
      if (l->env == env) listeners.push_back({{"service", l->service}, {"listen", l->address}});
    return ok_json({{"environment", env}, {"slots", slots}, {"listeners", listeners}});
  });

  control_.route("POST", "/v1/env/{env}/service/{service}/start", [this](const ControlRequest& req) {
    const std::string &env = req.params[0], &service = req.params[1];
    if (auto denied = authorize(req, env)) return *denied;
    if (!listener(env, service))
      return json_error(404, "service '" + service + "' has no listener in " + env);
    json body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.contains("digest") || !body["digest"].is_string())
      return json_error(400, "body must be JSON with a \"digest\"");
    std::string digest = body["digest"], version = body.value("version", "");
    auto secrets = secrets_for(env, service, digest);
    if (!secrets) return json_error(412, secrets.error().message);
    auto st = supervisor_.start({env, service, digest}, version, *secrets);
    if (!st) return json_error(st.error().code == Code::kNotFound ? 404 : 502, st.error().message);
    return ok_json(slot_json(*st));
  });

  control_.route("POST", "/v1/env/{env}/service/{service}/routes", [this](const ControlRequest& req) {
    const std::string &env = req.params[0], &service = req.params[1];
    if (auto denied = authorize(req, env)) return *denied;
    json body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.contains("weights") || !body["weights"].is_object())
      return json_error(400, "body must be JSON with \"weights\": {digest: percent}");
    std::map<std::string, int> weights;
    for (auto& [k, v] : body["weights"].items()) {
      if (!v.is_number_integer() || v.get<int>() < 0 || v.get<int>() > 100)
        return json_error(400, "weight of " + k + " must be an integer 0..100");
      weights[k] = v.get<int>();
    }
    std::lock_guard lock(routes_mu_);
    if (auto s = apply_routes(env, service, weights); !s.ok()) return json_error(409, s.error().message);
    return ok_json({{"status", "ok"}});
  });

  control_.route("POST", "/v1/env/{env}/service/{service}/promote", [this](const ControlRequest& req) {
    const std::string &env = req.params[0], &service = req.params[1];
    if (auto denied = authorize(req, env)) return *denied;
    json body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.contains("digest"))
      return json_error(400, "body must be JSON with a \"digest\"");
    std::string digest = body["digest"];
    std::lock_guard lock(routes_mu_);
    auto target = supervisor_.slot({env, service, digest});
    if (!target) return json_error(404, "no running release " + digest + " of " + env + "." + service);
    if (auto s = apply_routes(env, service, {{digest, 100}}); !s.ok())
      return json_error(409, s.error().message);
    // The previous serving release stays warm for an instant rollback; anything older is stopped.
    std::vector<SlotKey> to_stop;
    for (const auto& s : supervisor_.slots()) {
      if (s.key.env != env || s.key.service != service) continue;
      if (s.key.digest == digest)
        (void)supervisor_.set_role(s.key, SlotRole::kServing, 100);
      else if (s.role == SlotRole::kServing)
        (void)supervisor_.set_role(s.key, SlotRole::kWarm, 0);
      else
        to_stop.push_back(s.key);
    }
    std::thread([this, to_stop] {
      for (const auto& k : to_stop) (void)supervisor_.stop(k);
    }).detach();
    return ok_json({{"status", "ok"}, {"stopped", to_stop.size()}});
  });

  // Rollback rehearsal, step 1: the previous release in a spare slot (its own port and data folder).
  control_.route("POST", "/v1/env/{env}/service/{service}/rehearsal/start",
                 [this](const ControlRequest& req) {
                   const std::string &env = req.params[0], &service = req.params[1];
                   if (auto denied = authorize(req, env)) return *denied;
                   json body = json::parse(req.body, nullptr, false);
                   if (body.is_discarded() || !body.contains("digest") || !body["digest"].is_string())
                     return json_error(400, "body must be JSON with a \"digest\"");
                   std::string digest = body["digest"], version = body.value("version", "");
                   auto secrets = secrets_for(env, service, digest);
                   if (!secrets) return json_error(412, secrets.error().message);
                   auto st = supervisor_.start({rehearsal_env(env), service, digest}, version, *secrets);
                   if (!st) return json_error(502, "rehearsal: " + st.error().message);
                   return ok_json(slot_json(*st));
                 });

  // Rollback rehearsal, step 2: a private route (never the public one) swapped from the serving release
  // to the spare and back, each swap confirmed by a health request served by the intended release; then
  // the spare is stopped.
  control_.route("POST", "/v1/env/{env}/service/{service}/rehearsal/finish",
                 [this](const ControlRequest& req) {
                   const std::string &env = req.params[0], &service = req.params[1];
                   if (auto denied = authorize(req, env)) return *denied;
                   json body = json::parse(req.body, nullptr, false);
                   if (body.is_discarded() || !body.contains("digest"))
                     return json_error(400, "body must be JSON with a \"digest\"");
                   SlotKey spare_key{rehearsal_env(env), service, body["digest"]};
                   if (body.value("abort", false)) {
                     (void)supervisor_.stop(spare_key);
                     return ok_json({{"status", "aborted"}});
                   }
                   auto result = rehearse_swap(env, service, spare_key);
                   (void)supervisor_.stop(spare_key);
                   if (!result) return json_error(502, "rehearsal: " + result.error().message);
                   audit("rehearsal.passed", env + "/" + service, *result);
                   return ok_json(*result);
                 });

  control_.route("POST", "/v1/env/{env}/service/{service}/stop", [this](const ControlRequest& req) {
    const std::string &env = req.params[0], &service = req.params[1];
    if (auto denied = authorize(req, env)) return *denied;
    json body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.contains("digest"))
      return json_error(400, "body must be JSON with a \"digest\"");
    SlotKey key{env, service, body["digest"]};
    auto slot = supervisor_.slot(key);
    if (slot && slot->weight > 0) return json_error(409, "release " + key.digest + " still takes traffic");
    (void)supervisor_.stop(key);
    return ok_json({{"status", "ok"}});
  });

  control_.route("POST", "/v1/shutdown", [this](const ControlRequest& req) {
    std::string token = starts_with(req.authorization, "Bearer ") ? req.authorization.substr(7) : "";
    if (!constant_time_equal(token, agent_token_)) return json_error(401, "shutdown needs the agent token");
    json body = json::parse(req.body, nullptr, false);
    stop_releases_ = !body.is_discarded() && body.value("stop_releases", false);
    shutdown_ = true;
    return ok_json({{"status", "ok"}});
  });
}

Status Agent::start_monitoring() {
  std::vector<std::unique_ptr<monitor::AlertChannel>> channels;
  for (const auto& a : config_.alerts) {
    auto ch = monitor::make_channel(a);
    if (!ch) return ch.error().context("alert channels");
    channels.push_back(std::move(ch).value());
  }
  alerts_ = std::make_unique<monitor::AlertDispatcher>(std::move(channels), real_clock());
  for (const auto& env : config_.environments) {
    std::vector<std::string> services = config_.services_of(env);
    auto ev = std::make_unique<monitor::AlarmEvaluator>(config_.monitor.alarms, env.name, services, source_,
                                                        real_clock());
    ev->set_release_lookup(
        [this, env = env.name](const std::string& service) { return serving_release(env, service); });
    evaluators_[env.name] = std::move(ev);
    probers_[env.name] = std::make_unique<monitor::Prober>(real_clock(), nullptr);
  }
  monitor_thread_ = std::thread([this] { monitor_loop(); });
  return Ok();
}

std::string Agent::serving_release(const std::string& env, const std::string& service) {
  for (const auto& s : supervisor_.slots())
    if (s.key.env == env && s.key.service == service && s.role == SlotRole::kServing)
      return release_id(s.key.digest);
  return "";
}

// What the probe of one service sends and expects (docs/monitor.md, "Probes"). The key is the serving
// release's (the one a user's request meets); a url environment's comes from its secret store.
monitor::ProbeTarget Agent::probe_target(const config::EnvironmentConfig& env,
                                         const config::ServiceConfig& svc, std::string kind,
                                         std::string release, const std::string& base) {
  monitor::ProbeTarget t{
      env.name,       svc.name, std::move(kind), std::move(release), base + svc.probe_target_path(),
      svc.health_body};
  t.expect_status = svc.probe_expect;
  if (!svc.probe_sends_key()) return t;
  // Resolving secrets decrypts the store: once per release (or, for a url environment, per minute), not
  // once per probe.
  auto& cached = probe_keys_[{env.name, svc.name, t.release}];
  auto now = std::chrono::steady_clock::now();
  if (cached.resolved_at == std::chrono::steady_clock::time_point{} ||
      (t.release.empty() && now - cached.resolved_at > std::chrono::minutes(1))) {
    std::map<std::string, std::string> secrets;
    if (!t.release.empty()) {
      for (const auto& s : supervisor_.slots())
        if (s.key.env == env.name && s.key.service == svc.name && release_id(s.key.digest) == t.release)
          if (auto r = secrets_for(env.name, svc.name, s.key.digest)) secrets = *r;
    } else if (auto r = secrets::resolve_for_service(config_.state_dir(), env.name, svc, nullptr)) {
      for (const auto& [k, v] : r->values) secrets[k] = v.reveal();
    }
    auto it = secrets.find(svc.auth_secret);
    cached = {it == secrets.end() ? "" : it->second, now};
  }
  if (!cached.value.empty()) {
    t.auth_header = svc.auth_header;
    t.auth_value = cached.value;
  }
  return t;
}

std::vector<monitor::ProbeTarget> Agent::probe_targets(const config::EnvironmentConfig& env) {
  std::vector<monitor::ProbeTarget> out;
  auto slots = supervisor_.slots();
  for (const auto& svc : config_.services) {
    if (auto it = env.listen.find(svc.name); it != env.listen.end()) {
      std::string serving = serving_release(env.name, svc.name);
      // Pending until something has served (the first healthy cutover); after that, nothing serving is
      // downtime. A pending probe needs no key.
      if (!serving.empty()) ever_served_.insert({env.name, svc.name});
      bool pending = !ever_served_.count({env.name, svc.name});
      auto t = pending ? monitor::ProbeTarget{env.name,
                                              svc.name,
                                              "public",
                                              "",
                                              "http://" + it->second.to_string() + svc.probe_target_path(),
                                              ""}
                       : probe_target(env, svc, "public", serving, "http://" + it->second.to_string());
      t.pending = pending;
      int weighted = 0;
      for (const auto& s : slots)
        if (s.key.env == env.name && s.key.service == svc.name) {
          weighted += s.weight > 0;
          t.during_deploy |= s.role == SlotRole::kStarting;
        }
      t.during_deploy |= weighted > 1;
      out.push_back(std::move(t));
    }
    if (auto it = env.urls.find(svc.name); it != env.urls.end()) {
      std::string base = it->second;
      while (!base.empty() && base.back() == '/') base.pop_back();
      out.push_back(probe_target(env, svc, "url", "", base));
    }
  }
  for (const auto& s : slots) {
    if (s.key.env != env.name || s.port == 0 || s.role == SlotRole::kStopped) continue;
    const auto* svc = config_.service(s.key.service);
    if (!svc) continue;
    out.push_back(probe_target(env, *svc, "slot", release_id(s.key.digest),
                               "http://127.0.0.1:" + std::to_string(s.port)));
  }
  return out;
}

void Agent::probe_and_evaluate(const config::EnvironmentConfig& env) {
  monitor::Prober& prober = *probers_.at(env.name);
  prober.set_targets(probe_targets(env));
  auto results = prober.probe_once();
  std::vector<monitor::AlarmTransition> changes;
  std::vector<std::tuple<std::string, Watch, std::string>> to_roll_back;
  {
    std::lock_guard lock(monitor_mu_);
    auto& ev = *evaluators_.at(env.name);
    changes = ev.evaluate();
    auto now = std::chrono::steady_clock::now();
    for (auto it = watches_.begin(); it != watches_.end();) {
      const auto& [key, w] = *it;
      if (key.first != env.name) {
        ++it;
        continue;
      }
      auto firing = ev.firing_critical(key.second);
      if (!firing.empty()) {
        to_roll_back.emplace_back(key.second, w,
                                  "critical alarm firing during the watch: " + join(firing, ", "));
      } else if (now < w.until) {
        ++it;
        continue;
      } else {
        log_event(LogLevel::kInfo, "agent", "watch.passed", {{"env", env.name}, {"service", key.second}});
      }
      it = watches_.erase(it);
    }
  }
  for (const auto& [service, w, reason] : to_roll_back) rollback_watched(env.name, service, w, reason);
  {
    std::lock_guard lock(store_mu_);
    if (store_) {
      for (const auto& r : results) {
        if (auto s = store::insert_probe_sample(*store_, monitor::probe_row(r)); !s.ok())
          log_event(LogLevel::kError, "agent", "store.write_failed", {{"error", s.error().message}});
      }
      if (auto s = monitor::record_transitions(*store_, changes); !s.ok())
        log_event(LogLevel::kError, "agent", "store.write_failed", {{"error", s.error().message}});
    }
  }
  for (const auto& t : changes) {
    log_event(t.to == monitor::AlarmState::kFiring ? LogLevel::kWarn : LogLevel::kInfo, "monitor", "alarm",
              {{"env", t.environment},
               {"service", t.service},
               {"alarm", t.alarm.name},
               {"from", std::string(monitor::to_string(t.from))},
               {"to", std::string(monitor::to_string(t.to))},
               {"value", t.value ? std::to_string(*t.value) : "none"}});
    if (auto a = monitor::alert_for(t)) alerts_->notify(*a);
  }
}

void Agent::rollback_watched(const std::string& env, const std::string& service, const Watch& w,
                             const std::string& reason) {
  log_event(LogLevel::kWarn, "agent", "watch.rolling_back",
            {{"env", env}, {"service", service}, {"reason", reason}});
  const auto began = std::chrono::steady_clock::now();
  std::optional<SlotStatus> prev, cand;
  {
    std::lock_guard lock(routes_mu_);
    prev = supervisor_.slot({env, service, w.previous});
    cand = supervisor_.slot({env, service, w.candidate});
    if (!prev || prev->port == 0) {
      log_event(LogLevel::kError, "agent", "watch.rollback_failed",
                {{"env", env}, {"service", service}, {"error", "the previous release no longer runs"}});
      return;
    }
    if (auto s = apply_routes(env, service, {{w.previous, 100}}); !s.ok()) {
      log_event(LogLevel::kError, "agent", "watch.rollback_failed",
                {{"env", env}, {"service", service}, {"error", s.error().message}});
      return;
    }
    (void)supervisor_.set_role(prev->key, SlotRole::kServing, 100);
  }
  const int64_t swap_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - began).count();
  // The bad release is stopped off the monitor thread: its drain must not hold up probing.
  std::thread([this, key = SlotKey{env, service, w.candidate}] { (void)supervisor_.stop(key); }).detach();
  WatchRollback done{env,    service, prev->version, w.previous, cand ? cand->version : "", w.candidate,
                     reason, 0,       swap_ms};
  const std::string detail = json{{"reason", reason}, {"trigger", "watch"}, {"swap_ms", swap_ms}}.dump();
  {
    std::lock_guard lock(store_mu_);
    if (store_) {
      store::Deployment d;
      d.environment = env;
      d.service = service;
      d.kind = store::DeploymentKind::kRollback;
      d.version = prev->version;
      d.digest = w.previous;
      d.from_digest = w.candidate;
      d.status = store::DeploymentStatus::kRunning;
      d.actor = "agent";
      d.detail = detail;
      if (auto id = store::create_deployment(*store_, d); id) done.deployment_id = *id;
    }
  }
  audit("watch.rolled_back", env + "/" + service,
        {{"from", w.candidate},
         {"to", w.previous},
         {"version", prev->version},
         {"reason", reason},
         {"swap_ms", swap_ms}});
  if (options_.after_watch_rollback && done.deployment_id > 0) {
    std::lock_guard lock(followups_mu_);
    followups_.emplace_back([this, done] { options_.after_watch_rollback(done); });
    return;
  }
  // Nobody follows up: the restored release is what a later rollback returns to again.
  std::lock_guard lock(store_mu_);
  if (!store_ || done.deployment_id == 0) return;
  (void)store::mark_known_good(*store_, {0, env, service, w.previous, prev->version, 0});
  (void)store::finish_deployment(*store_, done.deployment_id, store::DeploymentStatus::kSucceeded, detail);
}

void Agent::monitor_loop() {
  using std::chrono::steady_clock;
  std::map<std::string, steady_clock::time_point> next_probe;
  steady_clock::time_point next_tick{};
  while (!shutdown_) {
    auto now = steady_clock::now();
    if (now >= next_tick) {
      metrics_.tick();
      next_tick = now + kMonitorTick;
    }
    for (const auto& env : config_.environments) {
      auto& due = next_probe[env.name];
      if (now < due) continue;
      due = now + env.probe_interval;
      probe_and_evaluate(env);
    }
    // Sleep to whichever comes first, the next tick or the next probe: a probe_interval under the tick's
    // second is kept, not rounded up to it.
    auto wake = next_tick;
    for (const auto& [env, due] : next_probe) wake = std::min(wake, due);
    std::this_thread::sleep_for(std::clamp<steady_clock::duration>(
        wake - steady_clock::now(), std::chrono::milliseconds(10), kMonitorTick));
  }
}

std::string Agent::metrics_text() {
  monitor::Exposition e;
  e.series = metrics_.collect();
  for (const auto& [env, p] : probers_)
    for (auto& g : p->gauges()) e.probes.push_back(std::move(g));
  for (const auto& s : supervisor_.slots())
    e.restarts.push_back(
        {s.key.env, s.key.service, release_id(s.key.digest), static_cast<uint64_t>(s.restarts)});
  std::lock_guard lock(monitor_mu_);
  for (const auto& [env, ev] : evaluators_)
    for (auto& g : ev->gauges()) e.alarms.push_back(std::move(g));
  return monitor::write_prometheus(e);
}

Status Agent::run() {
  VILLAGER_RETURN_IF_ERROR(open_store());
  VILLAGER_RETURN_IF_ERROR(start_listeners());
  VILLAGER_RETURN_IF_ERROR(restore_slots());
  register_routes();
  VILLAGER_RETURN_IF_ERROR(start_monitoring());
  if (auto s = control_.start(config_.agent.control.host, config_.agent.control.port); !s.ok()) {
    shutdown_ = true;
    monitor_thread_.join();
    return s;
  }
  log_event(LogLevel::kInfo, "agent", "started",
            {{"control", config_.agent.control.to_string()}, {"pid", std::to_string(::getpid())}});
  audit("agent.started", "agent", {{"pid", ::getpid()}});

  // Signals are taken synchronously by this thread; every other thread has them blocked.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  std::atomic<int> got_signal{0};
  std::thread signals([&] {
    int sig = 0;
    timespec tick{0, 200'000'000};
    while (!shutdown_) {
      siginfo_t info;
      sig = sigtimedwait(&set, &info, &tick);
      if (sig > 0) {
        got_signal = sig;
        shutdown_ = true;
      }
    }
  });
  while (!shutdown_) {
    supervisor_.supervise();
    std::this_thread::sleep_for(Supervisor::kSuperviseInterval);
  }
  signals.join();
  if (monitor_thread_.joinable()) monitor_thread_.join();
  {
    // A follow-up still smoke-testing a restored release finishes first: its deployment row must close.
    std::lock_guard lock(followups_mu_);
    for (auto& t : followups_) t.join();
    followups_.clear();
  }
  log_event(LogLevel::kInfo, "agent", "stopping", {{"signal", std::to_string(got_signal.load())}});
  control_.stop();
  // Drain: stop accepting, let in-flight requests finish, then close.
  std::vector<std::thread> stops;
  for (auto& l : listeners_) stops.emplace_back([&l] { l->proxy->stop(); });
  for (auto& t : stops) t.join();
  if (options_.stop_releases_on_exit || stop_releases_) supervisor_.stop_all();
  audit("agent.stopped", "agent",
        {{"releases_stopped", options_.stop_releases_on_exit || stop_releases_.load()}});
  log_event(LogLevel::kInfo, "agent", "stopped");
  return Ok();
}

}  // namespace

Status run_agent(const config::Config& config, const AgentOptions& options) {
  // Block the signals before any thread starts so they are all delivered to the signal thread.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  // The agent's log goes to stderr and to <state>/logs/agent.log, where the smoke suite's plaintext
  // check scans it. Lines are redacted before they reach either.
  fs::path log_path = config.state_dir() / "logs" / "agent.log";
  if (ensure_dir(log_path.parent_path(), fs::perms(0700)).ok()) {
    set_log_sink([log_path](std::string_view line) {
      std::string l(line);
      l.push_back('\n');
      std::fwrite(l.data(), 1, l.size(), stderr);
      (void)append_file(log_path, l);
    });
  }
  Agent agent(config, options);
  return agent.run();
}

}  // namespace villager::agent
