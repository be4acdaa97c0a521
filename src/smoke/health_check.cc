// health: every service's health path answers 200 with the expected body within a timeout, retried at
// an interval up to a deadline (cold starts answer 503/504 or refuse connections for a while). A
// protected service is asked with its API key when one is available.

#include "net/health.h"
#include "net/retry.h"
#include "smoke/context.h"

namespace villager::smoke {

std::vector<CheckResult> check_health(SmokeContext& ctx) {
  const auto& sc = ctx.config.smoke;
  std::vector<CheckResult> out;
  for (const auto& t : ctx.targets) {
    const auto started = ctx.clock.steady_now();
    const config::ServiceConfig* svc = ctx.config.service(t.service);
    CheckResult r{"health", t.service};
    net::HttpRequest req;
    req.timeout = sc.health_timeout;
    // SGraph Send's admin protects /info/health too: a protected service is probed as its client is.
    if (is_protected_service(*svc) && !svc->auth_header.empty() && !svc->auth_secret.empty())
      if (auto key = ctx.secret(svc->auth_secret)) req.headers.push_back({svc->auth_header, *key});
    std::string line = "GET " + net::join_url(t.base_url, svc->health_path);
    using Attempt = Result<net::HttpResponse>;
    auto ok = [&](const Attempt& a) {
      return a.has_value() && net::health_failure(a->status, a->body, svc->health_body).empty();
    };
    // An untrusted certificate ends the retries: a cold start fixes a refused connection, not that.
    auto settled = [&](const Attempt& a) {
      return ok(a) || (!a && a.error().code == Code::kFailedPrecondition);
    };
    int attempts = 0;
    Attempt last = net::retry<Attempt>(
        ctx.clock, net::every_until(sc.health_interval, sc.health_deadline),
        [&] { return ctx.send(t, req, svc->health_path); }, settled, &attempts);
    if (!ok(last)) {
      std::string actual = last.has_value() ? describe(*last) : last.error().message;
      r.failures.push_back({line, "200 with a body containing " + svc->health_body,
                            actual + " (after " + std::to_string(attempts) + " attempts)"});
    } else if (attempts > 1) {
      r.notes.push_back("healthy after " + std::to_string(attempts) + " attempts");
    }
    r.duration = ctx.elapsed(started);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace villager::smoke
