// The agent's monitoring: probes and alarms per environment every probe_interval, the watch handed over
// by deploy --no-wait (and the rollback it makes), and the /metrics exposition (docs/monitor.md).
#include "agent/agent_impl.h"

namespace villager::agent::internal {

Status Agent::start_monitoring() {
  std::vector<config::NotifyConfig> channels;
  for (const auto& c : config_.notify)
    if (c.takes_alerts()) channels.push_back(c);
  notify::NotifierOptions o;
  o.max_attempts = 5;  // an alert matters more than a CLI's exit: retry longer, further apart
  o.first_backoff = std::chrono::milliseconds(500);
  o.max_backoff = std::chrono::seconds(30);
  o.log_failures = true;  // the agent runs on: its log is where an undelivered alert is seen
  alerts_ = std::make_unique<notify::Notifier>(std::move(channels), o);
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
      // An HTTPS listener is probed over TLS, without checking a certificate made out to the public name.
      const std::string base = (serves_tls(env.name) ? "https://" : "http://") + it->second.to_string();
      auto t =
          pending ? monitor::ProbeTarget{env.name, svc.name, "public", "", base + svc.probe_target_path(), ""}
                  : probe_target(env, svc, "public", serving, base);
      t.pending = pending;
      t.verify_tls = !serves_tls(env.name);
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
    if (auto a = monitor::alert_for(t)) alerts_->publish(*a);
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

// What each listener's proxy counts itself: upgraded (WebSocket) connections open per release (a tunnel
// is one request in villager_requests_total, at its 101), and TLS handshakes that failed.
std::string Agent::proxy_metrics_text() {
  std::string upgraded =
      "# HELP villager_upgraded_connections Upgraded (WebSocket) connections open now, per release.\n"
      "# TYPE villager_upgraded_connections gauge\n";
  std::string tls =
      "# HELP villager_tls_handshake_failures_total TLS handshakes refused or broken (an old protocol "
      "version, a plain-HTTP client, a timeout).\n# TYPE villager_tls_handshake_failures_total counter\n";
  for (const auto& l : listeners_) {
    const proxy::Proxy::Stats s = l->proxy->stats();
    const std::string labels = "environment=\"" + monitor::escape_label_value(l->env) + "\",service=\"" +
                               monitor::escape_label_value(l->service) + "\"";
    for (const auto& [release, open] : s.upgraded_by_release)
      upgraded += "villager_upgraded_connections{" + labels + ",release=\"" +
                  monitor::escape_label_value(release) + "\"} " + std::to_string(open) + "\n";
    tls += "villager_tls_handshake_failures_total{" + labels + "} " + std::to_string(s.tls_failures) + "\n";
  }
  return upgraded + tls;
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
  std::string out = monitor::write_prometheus(e) + proxy_metrics_text();
  std::lock_guard synthetic_lock(synthetic_mu_);
  if (synthetic_.empty()) return out;
  out +=
      "# HELP villager_synthetic_requests_total Synthetic canary requests deploy sent to a candidate slot, "
      "also counted in villager_requests_total.\n# TYPE villager_synthetic_requests_total counter\n";
  for (const auto& [key, n] : synthetic_) {
    const auto& [env, service, release] = key;
    out += "villager_synthetic_requests_total{environment=\"" + monitor::escape_label_value(env) +
           "\",service=\"" + monitor::escape_label_value(service) + "\",release=\"" +
           monitor::escape_label_value(release) + "\"} " + std::to_string(n) + "\n";
  }
  return out;
}

}  // namespace villager::agent::internal
