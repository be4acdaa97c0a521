// auth: each protected path answers the configured status (401) with no credential and with a wrong
// one, and 2xx with the right one; the transfers service's write endpoint refuses a request without a
// valid access token (a server that fails open accepts it). A 5xx to the right credential is a note,
// not an auth failure: the credential was not refused, and the health check reports the outage.

#include "base/strings.h"
#include "smoke/context.h"
#include "smoke/random.h"
#include "smoke/sgraph_send/profile.h"

namespace villager::smoke {

namespace {

// Never a real credential: random per run so a server cannot special-case it.
std::string wrong_credential() {
  return "villager-wrong-" + hex_encode(random_bytes(8));
}

// `path_key` names the [smoke] key a 404 points at ("write_path"), "" for configured service paths.
void expect_status(SmokeContext& ctx, const SmokeTarget& t, CheckResult& r, net::HttpRequest req,
                   const std::string& path, const std::string& label, int want,
                   const std::string& path_key = "") {
  std::string line = req.method + " " + net::join_url(t.base_url, path) + " (" + label + ")";
  auto resp = ctx.send(t, req, path);
  if (!resp) {
    r.failures.push_back({line, "status " + std::to_string(want), resp.error().message});
  } else if (resp->status == 404 && want != 404 && !path_key.empty()) {
    r.failures.push_back(sgraph_send::missing_path(ctx, line, path_key));
  } else if (want != 200 && resp->status != want) {
    r.failures.push_back({line, "status " + std::to_string(want), describe(*resp)});
  } else if (want == 200 && resp->status >= 500) {
    // The credential was not refused; the service is failing, which is the health check's finding.
    r.notes.push_back(line + " answered " + std::to_string(resp->status) +
                      ": credential not refused, service failing");
  } else if (want == 200 && !is_2xx(resp->status)) {
    r.failures.push_back({line, "a 2xx status", describe(*resp)});
  }
}

}  // namespace

std::vector<CheckResult> check_auth(SmokeContext& ctx) {
  const auto& sc = ctx.config.smoke;
  std::vector<CheckResult> out;
  const std::string wrong = wrong_credential();
  for (const auto& t : ctx.targets) {
    const auto started = ctx.clock.steady_now();
    const config::ServiceConfig* svc = ctx.config.service(t.service);
    bool prot = is_protected_service(*svc);
    const auto write = sgraph_send::write_endpoint(ctx, *svc);
    if (!prot && !write) continue;
    CheckResult r{"auth", t.service};
    if (prot) {
      std::optional<std::string> key;
      if (svc->auth_header.empty())
        r.failures.push_back(
            {"service " + svc->name, "auth_header set (the header carrying the API key)", "not set"});
      else if (svc->auth_secret.empty())
        r.failures.push_back(
            {"service " + svc->name, "auth_secret set (the secret holding the API key)", "not set"});
      else if (!(key = ctx.secret(svc->auth_secret)))
        r.failures.push_back({"secret " + svc->auth_secret,
                              "a value (environment's secrets or the process environment)",
                              "not available: the right credential cannot be tested"});
      for (const auto& path : svc->protected_paths) {
        net::HttpRequest req;
        expect_status(ctx, t, r, req, path, "no credential", sc.auth_status);
        if (svc->auth_header.empty()) continue;
        req.headers = {{svc->auth_header, wrong}};
        expect_status(ctx, t, r, req, path, "wrong " + svc->auth_header, sc.auth_status);
        // SGraph Send also takes the key from a cookie of the same name: a wrong one must not pass.
        req.headers = {{"Cookie", svc->auth_header + "=" + wrong}};
        expect_status(ctx, t, r, req, path, "wrong " + svc->auth_header + " cookie", sc.auth_status);
        if (key) {
          req.headers = {{svc->auth_header, *key}};
          expect_status(ctx, t, r, req, path, "right " + svc->auth_header, 200);
        }
      }
    }
    if (write) {
      net::HttpRequest req;
      req.method = "POST";
      req.headers = {{"content-type", "application/json"}};
      req.body = R"({"file_size_bytes":1,"content_type_hint":"application/octet-stream"})";
      size_t before = r.failures.size();
      expect_status(ctx, t, r, req, write->path, "no " + write->token_header, sc.auth_status, "write_path");
      req.headers.push_back({write->token_header, wrong});
      // A missing path is said once, not once per credential.
      if (r.failures.size() == before || r.failures.back().actual.rfind("status 404:", 0) != 0)
        expect_status(ctx, t, r, req, write->path, "wrong " + write->token_header, sc.auth_status,
                      "write_path");
      r.notes.push_back("write path " + write->path + ": " + write->explanation);
    }
    r.duration = ctx.elapsed(started);
    out.push_back(std::move(r));
  }
  if (out.empty()) {
    CheckResult r{"auth", ""};
    r.skipped = true;
    r.notes.push_back(
        ctx.config.profile == config::Profile::kSgraphSend
            ? "not applicable: no service has protected_paths or lists the access token secret " +
                  sc.sgraph_send.access_token_secret
            : std::string("not applicable: no service has protected_paths"));
    out.push_back(r);
  }
  return out;
}

}  // namespace villager::smoke
