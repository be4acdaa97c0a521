#include "smoke/smoke.h"

#include <algorithm>
#include <set>

#include "base/hash.h"
#include "base/strings.h"
#include "net/url.h"
#include "smoke/context.h"
#include "smoke/sgraph_send/profile.h"

namespace villager::smoke {

namespace {

using BuiltinFn = std::vector<CheckResult> (*)(SmokeContext&);

struct Builtin {
  const char* name;
  BuiltinFn run;
};

// In the order a failure is easiest to read: is it up, is it closed, is it scoped, does it keep
// secrets, does the page load, does the page itself keep the file and the key in the browser.
constexpr Builtin kBuiltins[] = {{"health", check_health},     {"auth", check_auth},
                                 {"cors", check_cors},         {"plaintext", sgraph_send::check_plaintext},
                                 {"frontend", check_frontend}, {"browser", check_browser}};

std::chrono::microseconds since(Clock& clock, SteadyTime start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(clock.steady_now() - start);
}

constexpr size_t kFingerprintHex = 20;

std::string strip_all(std::string s, const std::string& what) {
  if (what.empty()) return s;
  for (size_t pos; (pos = s.find(what)) != std::string::npos;) s.erase(pos, what.size());
  return s;
}

// Fingerprints every finding of `r` and applies the waivers filed for it; the result passes when each
// of its findings is waived.
void apply_waivers(const SmokeContext& ctx, CheckResult& r) {
  std::string base;
  for (const auto& t : ctx.targets)
    if (t.service == r.service) base = t.base_url;
  size_t waived = 0;
  for (auto& f : r.failures) {
    f.fingerprint = finding_fingerprint(r.name, r.service, base, f);
    if (!ctx.options.waivers) continue;
    WaiverVerdict v = ctx.options.waivers(r.name, r.service, f.fingerprint);
    f.waived = v.waived;
    f.waiver_refused = std::move(v.refused);
    if (f.waived) ++waived;
  }
  r.waived = !r.failures.empty() && waived == r.failures.size();
  r.passed = waived == r.failures.size();
}

}  // namespace

std::string finding_fingerprint(const std::string& check, const std::string& service,
                                const std::string& base_url, const Failure& f) {
  // The target's address is where the finding was seen, not what was seen: a candidate slot and the
  // public endpoint must give one fingerprint.
  std::string base = base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  auto url = net::parse_url(base_url);
  std::string origin = url ? url->origin() : "";
  auto strip = [&](const std::string& s) { return strip_all(strip_all(s, base), origin); };
  std::string observed =
      check + "\n" + service + "\n" + strip(f.what) + "\n" + strip(f.expected) + "\n" + strip(f.actual);
  return "fp:" + sha256_hex(observed).substr(0, kFingerprintHex);
}

Result<SmokeReport> run_smoke(const config::Config& config, const std::vector<SmokeTarget>& targets,
                              const SmokeOptions& options) {
  std::set<std::string> known(kBuiltinChecks.begin(), kBuiltinChecks.end());
  for (const auto& k : config.smoke.checks) known.insert(k.name);
  std::vector<std::string> named = options.only;
  named.insert(named.end(), config.smoke.skip.begin(), config.smoke.skip.end());
  for (const auto& name : named) {
    if (!known.count(name)) {
      std::string hint = suggest(name, std::vector<std::string>(known.begin(), known.end()));
      return InvalidArgument("unknown smoke check '" + name + "'" +
                             (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
                             "; checks: " + join(std::vector<std::string>(known.begin(), known.end()), ", "));
    }
  }
  if (targets.empty()) return InvalidArgument("no services to smoke-test");
  for (const auto& t : targets)
    if (!config.service(t.service))
      return InvalidArgument("smoke target for unknown service '" + t.service + "'");

  SmokeContext ctx(config, targets, options);
  // [smoke] skip drops a check from every run; --only narrows one run.
  auto selected = [&](const std::string& name) {
    if (std::find(config.smoke.skip.begin(), config.smoke.skip.end(), name) != config.smoke.skip.end())
      return false;
    return options.only.empty() ||
           std::find(options.only.begin(), options.only.end(), name) != options.only.end();
  };
  SmokeReport report;
  const auto suite_start = ctx.clock.steady_now();
  auto add = [&](std::vector<CheckResult> results, std::chrono::microseconds total) {
    for (auto& r : results) {
      apply_waivers(ctx, r);
      // Checks time each service themselves; a result for no service (not applicable) gets the whole.
      if (r.service.empty()) r.duration = total;
      report.passed = report.passed && r.passed;
      report.checks.push_back(std::move(r));
    }
  };
  for (const auto& b : kBuiltins) {
    if (!selected(b.name)) continue;
    auto start = ctx.clock.steady_now();
    auto results = b.run(ctx);
    add(std::move(results), since(ctx.clock, start));
  }
  for (const auto& k : config.smoke.checks) {
    if (!selected(k.name)) continue;
    auto start = ctx.clock.steady_now();
    auto results = check_declared(ctx, k);
    add(std::move(results), since(ctx.clock, start));
  }
  report.duration = since(ctx.clock, suite_start);
  return report;
}

}  // namespace villager::smoke
