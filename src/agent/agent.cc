#include "agent/agent.h"

#include "agent/agent_impl.h"

namespace villager::agent {

namespace internal {

store::SlotState to_store(SlotRole r) {
  switch (r) {
    case SlotRole::kStarting:
      return store::SlotState::kStarting;
    case SlotRole::kServing:
      return store::SlotState::kServing;
    case SlotRole::kWarm:
      return store::SlotState::kWarm;
    case SlotRole::kCanary:  // a Lambda version's role; no local slot has it
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

Status Agent::open_store() {
  auto st = store::Store::open(config_.state_dir());
  if (!st) return st.error().context("opening the state store");
  store_ = std::move(*st);
  for (const auto& env : config_.environments) {
    if (env.target != config::TargetKind::kLocal) continue;
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

bool Agent::serves_tls(const std::string& env) const {
  const config::EnvironmentConfig* e = config_.environment(env);
  return certs_ && e && config::serves_tls(config_, *e);
}

Status Agent::start_listeners() {
  const config::AgentConfig& ac = config_.agent;
  if (!ac.tls_cert.empty()) {
    std::vector<proxy::CertFiles> files;
    for (size_t i = 0; i < ac.tls_cert.size() && i < ac.tls_key.size(); ++i)
      files.push_back({ac.tls_cert[i].string(), ac.tls_key[i].string()});
    auto store = proxy::open_cert_files(std::move(files));
    if (!store) return store.error().context("[agent] tls_cert/tls_key");
    certs_ = std::move(*store);
  }
  for (const auto& env : config_.environments) {
    if (env.target != config::TargetKind::kLocal) continue;
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
      opts.limits.max_connections = config_.agent.max_connections;
      opts.limits.max_connections_per_ip = config_.agent.max_connections_per_ip;
      opts.limits.max_inflight_per_release = config_.agent.max_inflight_per_release;
      opts.limits.idle_timeout = config_.agent.idle_timeout;
      opts.limits.upstream_timeout = config_.agent.upstream_timeout;
      opts.client_forwarded = config_.agent.forwarded == "append" ? proxy::ClientForwarded::kAppend
                                                                  : proxy::ClientForwarded::kDrop;
      opts.limits.upgraded_idle_timeout = ac.upgraded_idle_timeout;
      opts.limits.upgrade_drain_timeout = ac.upgrade_drain_timeout;
      if (serves_tls(env.name)) {
        opts.tls = certs_;
        opts.tls_reload_interval = ac.tls_reload_interval;
      }
      l->recorder = metrics_.recorder(env.name, service);
      opts.observer = [rec = l->recorder.get()](const proxy::RequestRecord& r) {
        rec->record(r.release_id, r.status, r.latency_us, r.bytes_in, r.bytes_out);
      };
      l->proxy = std::make_unique<proxy::Proxy>(opts, l->routes);
      if (auto s = l->proxy->start(); !s.ok())
        return s.error().context(env.name + "." + service + " listener");
      log_event(LogLevel::kInfo, "agent", "listener.started",
                {{"env", env.name},
                 {"service", service},
                 {"listen", l->address},
                 {"tls", opts.tls ? "yes" : "no"}});
      listeners_.push_back(std::move(l));
    }
  }
  return start_redirect();
}

Status Agent::start_redirect() {
  if (!config_.agent.redirect_http) return Ok();
  proxy::ProxyOptions opts;
  opts.listen = config_.agent.redirect_http->to_string();
  opts.limits.max_header_bytes = config_.agent.max_header_bytes;
  opts.limits.max_connections = config_.agent.max_connections;
  opts.limits.max_connections_per_ip = config_.agent.max_connections_per_ip;
  opts.limits.idle_timeout = config_.agent.idle_timeout;
  opts.redirect_https_port = static_cast<uint16_t>(config_.agent.redirect_https_port);
  redirect_ = std::make_unique<proxy::Proxy>(opts, redirect_routes_);
  if (auto s = redirect_->start(); !s.ok()) return s.error().context("[agent] redirect_http listener");
  log_event(LogLevel::kInfo, "agent", "redirect.started",
            {{"listen", opts.listen}, {"https_port", std::to_string(opts.redirect_https_port)}});
  return Ok();
}

void Agent::reload_certificates() {
  if (!certs_) return;
  if (auto s = certs_->reload(); !s.ok()) {
    log_event(LogLevel::kWarn, "agent", "tls.reload_failed",
              {{"error", s.error().message}, {"kept", "previous"}});
    return;
  }
  log_event(LogLevel::kInfo, "agent", "tls.reloaded", {{"by", "SIGHUP"}});
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
    if (!env || env->target != config::TargetKind::kLocal || !config_.service(row.service)) continue;
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
  sigaddset(&set, SIGHUP);
  std::atomic<int> got_signal{0};
  std::thread signals([&] {
    int sig = 0;
    timespec tick{0, 200'000'000};
    while (!shutdown_) {
      siginfo_t info;
      sig = sigtimedwait(&set, &info, &tick);
      if (sig == SIGHUP) {
        reload_certificates();
      } else if (sig > 0) {
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
  if (redirect_) stops.emplace_back([this] { redirect_->stop(); });
  for (auto& t : stops) t.join();
  if (options_.stop_releases_on_exit || stop_releases_) supervisor_.stop_all();
  // A last resolved alert gets a moment to leave; a dead channel costs the exit at most that.
  if (alerts_) alerts_->finish(std::chrono::seconds(1));
  audit("agent.stopped", "agent",
        {{"releases_stopped", options_.stop_releases_on_exit || stop_releases_.load()}});
  log_event(LogLevel::kInfo, "agent", "stopped");
  return Ok();
}

}  // namespace internal

Status run_agent(const config::Config& config, const AgentOptions& options) {
  // Block the signals before any thread starts so they are all delivered to the signal thread.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);  // reloads the TLS certificates
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
  internal::Agent agent(config, options);
  return agent.run();
}

}  // namespace villager::agent
