#include "cli/dashboard_server.h"

#include <arpa/inet.h>

#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/clock.h"
#include "base/log.h"
#include "base/redact.h"
#include "base/strings.h"
#include "cli/abort_action.h"
#include "cli/dashboard_api.h"
#include "cli/dashboard_assets.h"
#include "cli/held_action.h"
#include "cli/pipeline_hooks.h"
#include "cli/rollback_action.h"
#include "store/store.h"

namespace villager::cli {

using json = nlohmann::json;

namespace {

constexpr int kDefaultLimit = 50;
constexpr int kMaxLimit = 1000;
constexpr int kUptimeBuckets = 120;
constexpr const char* kDefaultSince = "30d";
// Scripts only from this origin, no framing, no referrer: the page holds nothing worth leaking, but a
// dashboard that can roll back production must not run anyone else's code or sit in someone's frame.
constexpr const char* kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

agent::ControlResponse json_response(int status, const json& body) {
  return {status, redact(body.dump()), "application/json"};
}

agent::ControlResponse error_response(int status, const std::string& message) {
  return agent::json_error(status, redact(message));
}

int status_for(const Error& e) {
  switch (e.code) {
    case Code::kNotFound:
      return 404;
    case Code::kInvalidArgument:
      return 400;
    default:
      return 500;
  }
}

agent::ControlResponse from_result(const Result<json>& r) {
  return r ? json_response(200, *r) : error_response(status_for(r.error()), r.error().message);
}

AuthRequest auth_request(const agent::ControlRequest& req) {
  auto header = [&](const char* name) {
    auto it = req.headers.find(name);
    return it == req.headers.end() ? std::string() : it->second;
  };
  return {req.authorization, header("cookie"), header("origin"), header("host"), header("x-csrf-token")};
}

void add_security_headers(agent::ControlResponse& r);

// Every answer leaves through here: the security headers, and a log line for a server-side failure
// (the page shows only "500"; under the agent this goes to agent.log).
void finish_response(const agent::ControlRequest& req, agent::ControlResponse& r) {
  if (r.status >= 500)
    log_event(LogLevel::kWarn, "dashboard", "request.failed",
              {{"method", req.method},
               {"path", req.target},
               {"status", std::to_string(r.status)},
               {"answer", r.body.substr(0, 300)}});
  add_security_headers(r);
}

void add_security_headers(agent::ControlResponse& r) {
  r.headers.push_back({"X-Content-Type-Options", "nosniff"});
  r.headers.push_back({"Referrer-Policy", "no-referrer"});
  r.headers.push_back({"X-Frame-Options", "DENY"});
  r.headers.push_back({"Content-Security-Policy", kContentSecurityPolicy});
  if (r.headers.end() == std::find_if(r.headers.begin(), r.headers.end(),
                                      [](const auto& h) { return h.first == "Cache-Control"; }))
    r.headers.push_back({"Cache-Control", "no-store"});
}

Result<ApiWindow> window_of(const agent::ControlRequest& req, const config::Config& config) {
  ApiWindow w;
  w.environment = query_param(req.query, "env");
  if (!w.environment.empty() && !config.environment(w.environment))
    return InvalidArgument("no environment '" + w.environment + "' in " + config.file.string());
  std::string since_text = query_param(req.query, "since");
  auto since = parse_duration(since_text.empty() ? kDefaultSince : since_text);
  if (!since) return since.error().context("since");
  w.until_ms = unix_millis(real_clock().now());
  w.since_ms = w.until_ms - since->count();
  std::string limit = query_param(req.query, "limit");
  w.limit = limit.empty() ? kDefaultLimit : std::atoi(limit.c_str());
  if (w.limit <= 0 || w.limit > kMaxLimit)
    return InvalidArgument("limit must be 1.." + std::to_string(kMaxLimit));
  return w;
}

json services_json(const std::vector<pipeline::ServiceResult>& services) {
  json out = json::array();
  for (const auto& s : services)
    out.push_back({{"service", s.service}, {"version", s.version}, {"status", s.status}});
  return out;
}

json session_json(const Principal& p) {
  return {{"signed_in", true}, {"role", to_string(p.role)}, {"name", p.name}, {"csrf", p.csrf}};
}

}  // namespace

bool is_loopback_host(const std::string& host) {
  if (host == "localhost" || host == "::1") return true;
  in_addr a{};
  return ::inet_pton(AF_INET, host.c_str(), &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

std::string query_param(const std::string& query, const std::string& key) {
  for (const auto& pair : split(query, '&')) {
    auto eq = pair.find('=');
    if (pair.substr(0, eq) != key) continue;
    std::string raw = eq == std::string::npos ? "" : pair.substr(eq + 1), out;
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '+') {
        out += ' ';
      } else if (raw[i] == '%' && i + 2 < raw.size()) {
        auto byte = hex_decode(raw.substr(i + 1, 2));
        if (!byte) return "";
        out += *byte;
        i += 2;
      } else {
        out += raw[i];
      }
    }
    return out;
  }
  return "";
}

DashboardServer::DashboardServer(config::Config config, DashboardAuth auth, std::string prefix)
    : config_(std::move(config)), auth_(std::move(auth)), prefix_(std::move(prefix)) {}

void DashboardServer::add_routes(agent::ControlServer& server) {
  auto wrap = [this](Response (DashboardServer::*h)(const Request&)) {
    return [this, h](const Request& req) {
      Response r = (this->*h)(req);
      finish_response(req, r);
      return r;
    };
  };
  const std::string& p = prefix_;
  // The page's relative paths resolve against its folder: "/ui" must become "/ui/" first.
  if (!p.empty())
    server.route("GET", p, [p](const Request&) {
      Response r{308, "", "text/plain"};
      r.headers.push_back({"Location", p + "/"});
      return r;
    });
  for (const char* path : {"/", "/assets/{file}"})
    server.route("GET", p + path, wrap(&DashboardServer::on_asset));
  server.route("POST", p + "/api/v1/session", wrap(&DashboardServer::on_session_open));
  server.route("GET", p + "/api/v1/session", wrap(&DashboardServer::on_session_get));
  server.route("DELETE", p + "/api/v1/session", wrap(&DashboardServer::on_session_close));
  server.route("POST", p + "/api/v1/actions/rollback", wrap(&DashboardServer::on_rollback_action));
  server.route("POST", p + "/api/v1/actions/promote", wrap(&DashboardServer::on_promote_action));
  server.route("POST", p + "/api/v1/actions/abort", wrap(&DashboardServer::on_abort_action));
  server.route("GET", p + "/api/v1/events", wrap(&DashboardServer::on_events));
  add_read_route(server, p + "/api/v1/environments", &DashboardServer::on_environments);
  add_read_route(server, p + "/api/v1/deployments", &DashboardServer::on_deployments);
  add_read_route(server, p + "/api/v1/deployments/{id}", &DashboardServer::on_deployment);
  add_read_route(server, p + "/api/v1/rollbacks", &DashboardServer::on_rollbacks);
  add_read_route(server, p + "/api/v1/uptime", &DashboardServer::on_uptime);
  add_read_route(server, p + "/api/v1/report", &DashboardServer::on_report);
  add_read_route(server, p + "/api/v1/review", &DashboardServer::on_review);
  add_read_route(server, p + "/api/v1/audit", &DashboardServer::on_audit);
}

void DashboardServer::add_read_route(agent::ControlServer& server, const std::string& path,
                                     Response (DashboardServer::*handler)(const Request&)) {
  server.route("GET", path, [this, handler](const Request& req) {
    Response r;
    if (principal(req, r)) r = (this->*handler)(req);
    finish_response(req, r);
    return r;
  });
}

Status DashboardServer::start(const std::string& host, uint16_t port, std::shared_ptr<proxy::CertStore> tls) {
  secure_ = tls != nullptr;
  if (tls) server_.use_tls(std::move(tls));
  add_routes(server_);
  return server_.start(host, port);
}

std::optional<Principal> DashboardServer::principal(const Request& req, Response& denied) {
  auto p = auth_.authenticate(auth_request(req));
  if (!p) {
    denied = error_response(401, "a dashboard token is needed (Authorization: Bearer, or sign in)");
    denied.headers.push_back({"WWW-Authenticate", "Bearer realm=\"villager\""});
  }
  return p;
}

DashboardServer::Response DashboardServer::on_asset(const Request& req) {
  const DashboardAsset* a = find_dashboard_asset(std::string_view(req.target).substr(prefix_.size()));
  if (!a) return error_response(404, "no such file: " + req.target);
  Response r{200, std::string(a->body), std::string(a->content_type)};
  r.headers.push_back({"Cache-Control", "no-cache"});
  return r;
}

DashboardServer::Response DashboardServer::on_session_open(const Request& req) {
  json body = json::parse(req.body, nullptr, false);
  if (!body.is_object() || !body.contains("token") || !body["token"].is_string())
    return error_response(400, "POST /api/v1/session needs {\"token\": \"...\"}");
  auto p = auth_.open_session(body["token"].get<std::string>());
  if (!p) return error_response(401, "unknown dashboard token");
  Response r = json_response(200, session_json(*p));
  r.headers.push_back({"Set-Cookie", DashboardAuth::session_cookie(p->session, cookie_path(), secure_)});
  return r;
}

DashboardServer::Response DashboardServer::on_session_get(const Request& req) {
  // 200 either way: the page asks this first, and a signed-out page is not an error.
  auto p = auth_.authenticate(auth_request(req));
  if (!p) return json_response(200, json{{"signed_in", false}});
  json j = session_json(*p);
  j["signed_in"] = true;
  return j.is_object() ? json_response(200, j) : json_response(500, j);
}

DashboardServer::Response DashboardServer::on_session_close(const Request& req) {
  auth_.close_session(cookie_value(auth_request(req).cookie, DashboardAuth::kCookieName));
  Response r = json_response(200, json{{"status", "signed out"}});
  r.headers.push_back({"Set-Cookie", DashboardAuth::session_cookie("", cookie_path(), secure_)});
  return r;
}

#define VILLAGER_OPEN_STORE(st)                      \
  auto st = store::Store::open(config_.state_dir()); \
  if (!st) return error_response(500, st.error().message);

DashboardServer::Response DashboardServer::on_environments(const Request&) {
  VILLAGER_OPEN_STORE(st);
  return from_result(api_environments(config_, **st));
}

DashboardServer::Response DashboardServer::on_deployments(const Request& req) {
  auto w = window_of(req, config_);
  if (!w) return error_response(400, w.error().message);
  VILLAGER_OPEN_STORE(st);
  return from_result(api_deployments(**st, *w));
}

DashboardServer::Response DashboardServer::on_deployment(const Request& req) {
  char* end = nullptr;
  long long id = std::strtoll(req.params[0].c_str(), &end, 10);
  if (*end != '\0' || id <= 0) return error_response(400, "'" + req.params[0] + "' is not a deployment id");
  VILLAGER_OPEN_STORE(st);
  return from_result(api_deployment(**st, id));
}

DashboardServer::Response DashboardServer::on_rollbacks(const Request& req) {
  auto w = window_of(req, config_);
  if (!w) return error_response(400, w.error().message);
  VILLAGER_OPEN_STORE(st);
  return from_result(api_rollbacks(**st, *w));
}

DashboardServer::Response DashboardServer::on_uptime(const Request& req) {
  std::string since = query_param(req.query, "since");
  Request r = req;
  if (since.empty()) r.query += "&since=1h";  // the strip is about recent deploys, not the month
  auto w = window_of(r, config_);
  if (!w) return error_response(400, w.error().message);
  VILLAGER_OPEN_STORE(st);
  return from_result(api_uptime(config_, **st, *w, kUptimeBuckets));
}

DashboardServer::Response DashboardServer::on_report(const Request& req) {
  auto w = window_of(req, config_);
  if (!w) return error_response(400, w.error().message);
  VILLAGER_OPEN_STORE(st);
  return from_result(api_report(config_, **st, *w));
}

DashboardServer::Response DashboardServer::on_review(const Request& req) {
  auto text = api_review_text(config_, query_param(req.query, "path"));
  if (!text) return error_response(404, text.error().message);
  return {200, redact(*text), "text/markdown; charset=utf-8"};
}

DashboardServer::Response DashboardServer::on_audit(const Request& req) {
  std::string limit = query_param(req.query, "limit");
  int n = limit.empty() ? 200 : std::atoi(limit.c_str());
  if (n <= 0 || n > 10000) return error_response(400, "limit must be 1..10000");
  VILLAGER_OPEN_STORE(st);
  return from_result(api_audit(**st, n));
}

DashboardServer::Response DashboardServer::on_events(const Request& req) {
  Response denied;
  if (!principal(req, denied)) return denied;
  auto st = store::Store::open(config_.state_dir());
  if (!st) return error_response(500, st.error().message);
  struct State {
    std::unique_ptr<store::Store> store;
    std::string mark;
    int polls = 0;
    bool greeted = false;
  };
  auto state = std::make_shared<State>();
  state->store = std::move(*st);
  Response r{200, "", "text/event-stream"};
  r.stream = [state]() -> std::optional<std::string> {
    if (!state->greeted) {
      state->greeted = true;
      auto mark = store_change_mark(*state->store);
      state->mark = mark ? *mark : "";
      return "retry: 3000\nevent: hello\ndata: " + json{{"mark", state->mark}}.dump() + "\n\n";
    }
    std::this_thread::sleep_for(kEventPoll);
    auto mark = store_change_mark(*state->store);
    if (mark && *mark != state->mark) {
      state->mark = *mark;
      state->polls = 0;
      return "event: change\ndata: " + json{{"mark", state->mark}}.dump() + "\n\n";
    }
    if (++state->polls % kKeepAliveEvery == 0) return std::string(": keep-alive\n\n");
    return std::string();
  };
  return r;
}

std::optional<DashboardServer::Action> DashboardServer::action(const Request& req, const std::string& verb,
                                                               Response& refused) {
  auto p = principal(req, refused);
  if (!p) return std::nullopt;
  if (std::string why = auth_.action_refusal(*p, auth_request(req)); !why.empty()) {
    refused = error_response(403, why);
    return std::nullopt;
  }
  json body = json::parse(req.body, nullptr, false);
  if (!body.is_object() || !body.value("environment", json()).is_string()) {
    refused = error_response(400, "POST /api/v1/actions/" + verb + " needs {\"environment\": \"...\"}");
    return std::nullopt;
  }
  Action a{*p, body["environment"].get<std::string>(), {}, body};
  if (!config_.environment(a.environment)) {
    refused = error_response(400, "no environment '" + a.environment + "' in " + config_.file.string());
    return std::nullopt;
  }
  if (body.contains("service") && body["service"].is_string() && !body["service"].get<std::string>().empty())
    a.services.push_back(body["service"].get<std::string>());
  return a;
}

void DashboardServer::audit_action(const Action& a, const std::string& verb, const json& result) {
  auto st = store::Store::open(config_.state_dir());
  if (!st) return;
  json data = result;
  data["role"] = to_string(a.principal.role);
  data["via"] = a.principal.session.empty() ? "bearer token" : "browser session";
  (void)store::append_audit(**st, {a.principal.name, "dashboard." + verb, a.environment, data.dump()});
}

DashboardServer::Response DashboardServer::on_rollback_action(const Request& req) {
  Response refused;
  auto a = action(req, "rollback", refused);
  if (!a) return refused;
  pipeline::RollbackRequest rr;
  rr.environment = a->environment;
  rr.services = a->services;
  rr.reason = a->body.value("reason", std::string("manual (dashboard)"));
  rr.actor = a->principal.name + " (dashboard)";
  std::lock_guard lock(action_mu_);
  std::cerr << "villager: dashboard: rollback " << rr.environment << " by " << rr.actor << "\n";
  auto o = manual_rollback(config_, rr, stderr_progress("dashboard rollback " + rr.environment));
  if (!o) return error_response(status_for(o.error()), o.error().message);
  json services = json::array();
  for (const auto& s : o->services)
    services.push_back({{"service", s.service},
                        {"version", s.version},
                        {"from_version", s.from_version},
                        {"status", s.status}});
  json result = {{"environment", rr.environment},
                 {"exit_code", o->exit_code},
                 {"message", o->message},
                 {"duration_ms", o->duration_ms},
                 {"services", services}};
  audit_action(*a, "rollback", result);
  return json_response(o->exit_code == 0 ? 200 : 500, result);
}

DashboardServer::Response DashboardServer::on_promote_action(const Request& req) {
  Response refused;
  auto a = action(req, "promote", refused);
  if (!a) return refused;
  pipeline::ResolveHeldRequest hr{a->environment, a->services, true, a->principal.name + " (dashboard)"};
  std::lock_guard lock(action_mu_);
  // Checked under the lock: two clicks must not both act on one hold.
  if (!environment_held(config_, hr.environment, hr.services))
    return error_response(409, "nothing is held in " + hr.environment +
                                   (hr.services.empty() ? "" : "/" + hr.services.front()) +
                                   ": only a canary held by on_inconclusive = \"hold\" can be promoted here");
  std::cerr << "villager: dashboard: promote " << hr.environment << " by " << hr.actor << "\n";
  auto o = finish_held(config_, hr, stderr_progress("dashboard promote " + hr.environment));
  if (!o) return error_response(status_for(o.error()), o.error().message);
  json result = {{"environment", hr.environment},
                 {"action", "promote"},
                 {"exit_code", o->exit_code},
                 {"message", o->message},
                 {"services", services_json(o->services)}};
  audit_action(*a, "promote", result);
  return json_response(o->exit_code == 0 ? 200 : 500, result);
}

// A canary aborted, held or still running, through `villager abort`'s code (cli/abort_action.h).
DashboardServer::Response DashboardServer::on_abort_action(const Request& req) {
  Response refused;
  auto a = action(req, "abort", refused);
  if (!a) return refused;
  AbortCanaryAction ar{a->environment, a->services, a->principal.name + " (dashboard)",
                       a->body.value("reason", std::string())};
  std::lock_guard lock(action_mu_);
  std::cerr << "villager: dashboard: abort " << ar.environment << " by " << ar.actor << "\n";
  auto o = abort_canary(config_, ar, stderr_progress("dashboard abort " + ar.environment));
  if (!o) return error_response(status_for(o.error()), o.error().message);
  json result = {{"environment", ar.environment},
                 {"action", "abort"},
                 {"held", o->held},
                 {"exit_code", o->exit_code},
                 {"message", o->message},
                 {"duration_ms", o->duration_ms},
                 {"services", services_json(o->services)}};
  if (o->exit_code == 2) return error_response(409, o->message);
  audit_action(*a, "abort", result);
  return json_response(o->exit_code == 0 ? 200 : 500, result);
}

}  // namespace villager::cli
