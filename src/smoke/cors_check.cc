// cors: a preflight from each allowed origin is answered with that exact origin (never "*", and never
// "*" with credentials), the service's required request headers allowed and "Vary: Origin"; a
// preflight and a simple request from a foreign origin get no allow-origin for it.

#include "base/strings.h"
#include "smoke/context.h"
#include "smoke/sgraph_send/profile.h"

namespace villager::smoke {

namespace {

struct Probe {
  std::string path;
  std::string method;
  std::vector<std::string> headers;  // request headers the browser client must be allowed to send
};

// The request a browser client of this service really makes across origins.
Probe probe_for(SmokeContext& ctx, const config::ServiceConfig& svc) {
  if (auto write = sgraph_send::write_endpoint(ctx, svc))
    return {write->path, "POST", {write->token_header, "content-type"}};
  if (is_protected_service(svc) && !svc.auth_header.empty())
    return {svc.protected_paths.front(), "GET", {svc.auth_header}};
  return {svc.health_path, "GET", {}};
}

bool allows_header(const std::optional<std::string>& allow, const std::string& h) {
  return header_lists(allow, h) || header_lists(allow, "*");
}

void check_allowed(SmokeContext& ctx, const SmokeTarget& t, const Probe& p, const std::string& origin,
                   CheckResult& r) {
  net::HttpRequest req;
  req.method = "OPTIONS";
  req.headers = {{"Origin", origin}, {"Access-Control-Request-Method", p.method}};
  if (!p.headers.empty()) req.headers.push_back({"Access-Control-Request-Headers", join(p.headers, ",")});
  std::string line = "OPTIONS " + net::join_url(t.base_url, p.path) + " (preflight from " + origin + ")";
  auto resp = ctx.send(t, req, p.path);
  if (!resp) {
    r.failures.push_back({line, "a preflight answer", resp.error().message});
    return;
  }
  if (!is_2xx(resp->status)) r.failures.push_back({line, "status 200 or 204", describe(*resp)});
  auto acao = resp->headers.get("access-control-allow-origin");
  bool creds = to_lower(resp->headers.get("access-control-allow-credentials").value_or("")) == "true";
  if (acao == "*" && creds)
    r.failures.push_back({line, "Access-Control-Allow-Origin: " + origin,
                          "Access-Control-Allow-Origin: * with Access-Control-Allow-Credentials: true"});
  else if (acao != origin)
    r.failures.push_back({line, "Access-Control-Allow-Origin: " + origin,
                          acao ? "Access-Control-Allow-Origin: " + *acao : "no Access-Control-Allow-Origin"});
  auto allow_headers = resp->headers.get("access-control-allow-headers");
  for (const auto& h : p.headers)
    if (!allows_header(allow_headers, h) || (creds && !header_lists(allow_headers, h)))
      r.failures.push_back({line, "Access-Control-Allow-Headers listing " + h,
                            allow_headers ? "Access-Control-Allow-Headers: " + *allow_headers
                                          : "no Access-Control-Allow-Headers"});
  auto vary = resp->headers.get_all("vary");
  bool varies = false;
  for (const auto& v : vary) varies = varies || header_lists(v, "origin") || v == "*";
  if (!varies)
    r.failures.push_back(
        {line, "Vary: Origin", vary.empty() ? "no Vary header" : "Vary: " + join(vary, ", ")});
}

void check_foreign(SmokeContext& ctx, const SmokeTarget& t, const Probe& p, const std::string& origin,
                   const std::string& health_path, CheckResult& r) {
  net::HttpRequest pre;
  pre.method = "OPTIONS";
  pre.headers = {{"Origin", origin}, {"Access-Control-Request-Method", p.method}};
  if (!p.headers.empty()) pre.headers.push_back({"Access-Control-Request-Headers", join(p.headers, ",")});
  net::HttpRequest simple;
  simple.headers = {{"Origin", origin}};
  struct Case {
    net::HttpRequest req;
    std::string path, label;
  };
  for (auto& c : {Case{pre, p.path, "preflight"}, Case{simple, health_path, "simple request"}}) {
    std::string line = c.req.method + " " + net::join_url(t.base_url, c.path) + " (" + c.label +
                       " from foreign " + origin + ")";
    auto resp = ctx.send(t, c.req, c.path);
    if (!resp) {
      r.failures.push_back({line, "an answer without Access-Control-Allow-Origin", resp.error().message});
      continue;
    }
    auto acao = resp->headers.get("access-control-allow-origin");
    if (acao && (*acao == origin || *acao == "*"))
      r.failures.push_back(
          {line, "no Access-Control-Allow-Origin for " + origin, "Access-Control-Allow-Origin: " + *acao});
  }
}

}  // namespace

std::vector<CheckResult> check_cors(SmokeContext& ctx) {
  const auto& sc = ctx.config.smoke;
  std::vector<CheckResult> out;
  for (const auto& t : ctx.targets) {
    const auto started = ctx.clock.steady_now();
    const config::ServiceConfig* svc = ctx.config.service(t.service);
    CheckResult r{"cors", t.service};
    if (sc.cors_allowed_origins.empty()) {
      r.skipped = true;
      r.notes.push_back("not applicable: [smoke] cors_allowed_origins is empty");
      r.duration = ctx.elapsed(started);
      out.push_back(std::move(r));
      continue;
    }
    Probe p = probe_for(ctx, *svc);
    for (const auto& origin : sc.cors_allowed_origins) check_allowed(ctx, t, p, origin, r);
    check_foreign(ctx, t, p, sc.cors_foreign_origin, svc->health_path, r);
    r.duration = ctx.elapsed(started);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace villager::smoke
