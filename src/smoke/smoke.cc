#include "smoke/smoke.h"

#include <algorithm>
#include <set>

#include "base/strings.h"
#include "smoke/context.h"

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
                                 {"cors", check_cors},         {"plaintext", check_plaintext},
                                 {"frontend", check_frontend}, {"browser", check_browser}};

std::chrono::microseconds since(Clock& clock, SteadyTime start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(clock.steady_now() - start);
}

}  // namespace

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
      r.passed = r.failures.empty();
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
