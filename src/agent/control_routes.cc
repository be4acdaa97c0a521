// The agent's control API: what deploy and rollback call, one handler per route (docs/targets/local.md).
#include "agent/agent_impl.h"

namespace villager::agent::internal {

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

void Agent::register_routes() {
  using Handler = ControlResponse (Agent::*)(const ControlRequest&);
  struct Route {
    const char* method;
    const char* pattern;
    Handler handler;
  };
  static const Route kRoutes[] = {
      {"GET", "/v1/health", &Agent::on_health},
      {"GET", "/metrics", &Agent::on_metrics},
      {"GET", "/v1/env/{env}/alarms", &Agent::on_alarms},
      {"POST", "/v1/env/{env}/watch", &Agent::on_watch},
      {"POST", "/v1/env/{env}/service/{service}/window", &Agent::on_window},
      {"POST", "/v1/env/{env}/service/{service}/synthetic", &Agent::on_synthetic},
      {"GET", "/v1/env/{env}/status", &Agent::on_status},
      {"POST", "/v1/env/{env}/service/{service}/start", &Agent::on_start},
      {"POST", "/v1/env/{env}/service/{service}/routes", &Agent::on_routes},
      {"POST", "/v1/env/{env}/service/{service}/promote", &Agent::on_promote},
      {"POST", "/v1/env/{env}/service/{service}/rehearsal/start", &Agent::on_rehearsal_start},
      {"POST", "/v1/env/{env}/service/{service}/rehearsal/finish", &Agent::on_rehearsal_finish},
      {"POST", "/v1/env/{env}/service/{service}/stop", &Agent::on_stop},
      {"POST", "/v1/shutdown", &Agent::on_shutdown},
  };
  for (const auto& r : kRoutes)
    control_.route(r.method, r.pattern,
                   [this, h = r.handler](const ControlRequest& req) { return (this->*h)(req); });
  if (options_.extra_routes) options_.extra_routes(control_);
}

ControlResponse Agent::on_health(const ControlRequest&) {
  return ok_json({{"status", "ok"}, {"pid", ::getpid()}});
}

// Prometheus scrapes without a token: the exposition holds counts and release ids, never secrets.
ControlResponse Agent::on_metrics(const ControlRequest&) {
  return ControlResponse{200, metrics_text(), monitor::kPrometheusContentType};
}

ControlResponse Agent::on_alarms(const ControlRequest& req) {
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
}

// deploy --no-wait: watch every service whose serving release has a warm predecessor, for watch_ms.
ControlResponse Agent::on_watch(const ControlRequest& req) {
  const std::string& env = req.params[0];
  if (auto denied = authorize(req, env)) return *denied;
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.contains("watch_ms") || !body["watch_ms"].is_number_integer())
    return json_error(400, "body must be JSON with \"watch_ms\"");
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(body["watch_ms"].get<int64_t>());
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
}

// Request counts of one release ("" = every release) over the last window_ms: canary analysis input.
// Synthetic canary traffic (docs/monitor.md): deploy sent these requests to a candidate slot directly,
// which the public listener's proxy never sees, so they are recorded here into that release's series,
// where the canary judge's window reads them like real traffic. Only a slot of this env and service.
ControlResponse Agent::on_synthetic(const ControlRequest& req) {
  const std::string &env = req.params[0], &service = req.params[1];
  if (auto denied = authorize(req, env)) return *denied;
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.contains("digest") || !body["digest"].is_string() ||
      !body.contains("samples") || !body["samples"].is_array())
    return json_error(
        400, "body must be JSON with \"digest\" and \"samples\": [[status, latency_us, bytes], ...]");
  std::string digest = body["digest"].get<std::string>();
  if (!supervisor_.slot({env, service, digest}))
    return json_error(404, "no slot of " + digest + " for " + env + "/" + service);
  Listener* l = listener(env, service);
  if (!l) return json_error(404, "no listener for " + env + "/" + service);
  std::string release = release_id(digest);
  uint64_t n = 0;
  for (const auto& s : body["samples"]) {
    if (!s.is_array() || s.size() != 3 || !s[0].is_number_integer() || !s[1].is_number_unsigned() ||
        !s[2].is_number_unsigned())
      return json_error(400, "each sample is [status, latency_us, bytes]");
  }
  for (const auto& s : body["samples"]) {
    l->recorder->record(release, s[0].get<int>(), s[1].get<uint64_t>(), 0, s[2].get<uint64_t>());
    ++n;
  }
  std::lock_guard lock(synthetic_mu_);
  uint64_t& total = synthetic_[{env, service, release}];
  total += n;
  return ok_json({{"recorded", n}, {"synthetic_total", total}});
}

ControlResponse Agent::on_window(const ControlRequest& req) {
  const std::string &env = req.params[0], &service = req.params[1];
  if (auto denied = authorize(req, env)) return *denied;
  auto q = api::parse_window_query(req.body);
  if (!q) return json_error(400, q.error().message);
  monitor::WindowStats w = metrics_.window(env, service, q->digest.empty() ? "" : release_id(q->digest),
                                           config::Millis(q->window_ms));
  json buckets = json::array();
  for (const auto& [index, count] : w.counts.buckets) buckets.push_back({index, count});
  return ok_json({{"requests", w.counts.requests},
                  {"classes", w.counts.classes},
                  {"bytes_in", w.counts.bytes_in},
                  {"bytes_out", w.counts.bytes_out},
                  {"latency_sum_us", w.counts.latency_sum_us},
                  {"covered_ms", w.covered.count()},
                  {"buckets", buckets}});
}

ControlResponse Agent::on_status(const ControlRequest& req) {
  const std::string& env = req.params[0];
  if (auto denied = authorize(req, env)) return *denied;
  json slots = json::array();
  for (const auto& s : supervisor_.slots())
    if (s.key.env == env) slots.push_back(slot_json(s));
  json listeners = json::array();
  for (const auto& l : listeners_)
    if (l->env == env) listeners.push_back({{"service", l->service}, {"listen", l->address}});
  return ok_json({{"environment", env}, {"slots", slots}, {"listeners", listeners}});
}

ControlResponse Agent::on_start(const ControlRequest& req) {
  const std::string &env = req.params[0], &service = req.params[1];
  if (auto denied = authorize(req, env)) return *denied;
  if (!listener(env, service)) return json_error(404, "service '" + service + "' has no listener in " + env);
  auto m = api::parse_start_release(req.body);
  if (!m) return json_error(400, m.error().message);
  auto secrets = secrets_for(env, service, m->digest.full());
  if (!secrets) return json_error(412, secrets.error().message);
  auto st = supervisor_.start({env, service, m->digest.full()}, m->version, *secrets);
  if (!st) return json_error(st.error().code == Code::kNotFound ? 404 : 502, st.error().message);
  return ok_json(slot_json(*st));
}

ControlResponse Agent::on_routes(const ControlRequest& req) {
  const std::string &env = req.params[0], &service = req.params[1];
  if (auto denied = authorize(req, env)) return *denied;
  auto m = api::parse_set_routes(req.body);
  if (!m) return json_error(400, m.error().message);
  std::lock_guard lock(routes_mu_);
  if (auto s = apply_routes(env, service, m->weights); !s.ok()) return json_error(409, s.error().message);
  return ok_json({{"status", "ok"}});
}

ControlResponse Agent::on_promote(const ControlRequest& req) {
  const std::string &env = req.params[0], &service = req.params[1];
  if (auto denied = authorize(req, env)) return *denied;
  auto m = api::parse_release_ref(req.body);
  if (!m) return json_error(400, m.error().message);
  // Slots are keyed by the digest as text (the store rows they are re-adopted from).
  const std::string& digest = m->digest.full();
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
}

// Rollback rehearsal, step 1: the previous release in a spare slot (its own port and data folder).
ControlResponse Agent::on_rehearsal_start(const ControlRequest& req) {
  const std::string &env = req.params[0], &service = req.params[1];
  if (auto denied = authorize(req, env)) return *denied;
  auto m = api::parse_start_release(req.body);
  if (!m) return json_error(400, m.error().message);
  auto secrets = secrets_for(env, service, m->digest.full());
  if (!secrets) return json_error(412, secrets.error().message);
  auto st = supervisor_.start({rehearsal_env(env), service, m->digest.full()}, m->version, *secrets);
  if (!st) return json_error(502, "rehearsal: " + st.error().message);
  return ok_json(slot_json(*st));
}

// Rollback rehearsal, step 2: a private route (never the public one) swapped from the serving release
// to the spare and back, each swap confirmed by a health request served by the intended release; then
// the spare is stopped.
ControlResponse Agent::on_rehearsal_finish(const ControlRequest& req) {
  const std::string &env = req.params[0], &service = req.params[1];
  if (auto denied = authorize(req, env)) return *denied;
  auto m = api::parse_finish_rehearsal(req.body);
  if (!m) return json_error(400, m.error().message);
  SlotKey spare_key{rehearsal_env(env), service, m->digest.full()};
  if (m->abort) {
    (void)supervisor_.stop(spare_key);
    return ok_json({{"status", "aborted"}});
  }
  auto result = rehearse_swap(env, service, spare_key);
  (void)supervisor_.stop(spare_key);
  if (!result) return json_error(502, "rehearsal: " + result.error().message);
  audit("rehearsal.passed", env + "/" + service, *result);
  return ok_json(*result);
}

ControlResponse Agent::on_stop(const ControlRequest& req) {
  const std::string &env = req.params[0], &service = req.params[1];
  if (auto denied = authorize(req, env)) return *denied;
  auto m = api::parse_release_ref(req.body);
  if (!m) return json_error(400, m.error().message);
  SlotKey key{env, service, m->digest.full()};
  auto slot = supervisor_.slot(key);
  if (slot && slot->weight > 0) return json_error(409, "release " + key.digest + " still takes traffic");
  (void)supervisor_.stop(key);
  return ok_json({{"status", "ok"}});
}

ControlResponse Agent::on_shutdown(const ControlRequest& req) {
  std::string token = starts_with(req.authorization, "Bearer ") ? req.authorization.substr(7) : "";
  if (!constant_time_equal(token, agent_token_)) return json_error(401, "shutdown needs the agent token");
  json body = json::parse(req.body, nullptr, false);
  stop_releases_ = !body.is_discarded() && body.value("stop_releases", false);
  shutdown_ = true;
  return ok_json({{"status", "ok"}});
}

}  // namespace villager::agent::internal
