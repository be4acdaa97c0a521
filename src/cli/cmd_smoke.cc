#include <unistd.h>

#include <iostream>

#include "base/fs.h"
#include "base/strings.h"
#include "cli/commands.h"
#include "cli/lambda_smoke.h"
#include "cli/pipeline_hooks.h"
#include "cli/project.h"
#include "smoke/smoke.h"

namespace villager::cli {

namespace {

constexpr std::string_view kHelp =
    R"(usage: villager smoke ENV [--service S] [--only CHECK,...] [--json] [--junit FILE] [-c FILE]

Runs the smoke suite against an environment's public endpoints: http://LISTEN of each service for a
local environment, the configured URLs for a url environment, each function's alias URL for a lambda
environment. Built-in checks:

  health     the health path answers 200 with the expected body, retried until a deadline
  auth       protected paths refuse no/wrong credential and accept the right one; (profile
             sgraph-send) the write endpoint refuses a request without a valid access token
  cors       allowed origins get exactly their origin back, Vary: Origin and the needed headers;
             a foreign origin gets no allow-origin
  plaintext  (profile sgraph-send) encrypts a marker as the browser does, uploads, downloads and compares it, then scans
             storage and logs for the marker, file name, key, tokens and the spoofed client IP
             (lambda: the S3 objects under storage_prefix and the CloudWatch Logs of each function)
  frontend   pages answer 200 text/html and their same-origin assets load
  browser    ([smoke.browser]) a page run in headless Chromium by its declared steps (profile
             sgraph-send: the upload page): what never_sent names (the file's plaintext, the
             key in the link's #fragment) must be in no request the page sent

plus every [[smoke.check]] in villager.toml. Each finding is printed with its fingerprint
(fp:...); a finding covered by signed waivers (`villager waive`) still runs and is reported as
waived, with who, why and until when. With profile sgraph-send, the API paths follow [smoke.sgraph_send] preset for the app's version
(openapi.json, else the version file); same-origin redirects of pages are followed. Secrets (auth_secret, the access token, ${secret:NAME})
come from the environment's secrets store, else the process environment, and are never printed.

options:
  --service S        only this service (repeatable, or comma-separated)
  --only CHECK,...   only these checks (built-in or [[smoke.check]] names)
  --json             print the JSON report (schema in docs/smoke.md) instead of the table
  --junit FILE       also write a JUnit XML report to FILE
  -c, --config FILE  the config file (default: $VILLAGER_CONFIG, else ./villager.toml)

exit: 0 all checks passed, 1 a check failed, 2 usage or config error.
)";

std::vector<std::string> comma_list(const std::vector<std::string>& values) {
  std::vector<std::string> out;
  for (const auto& v : values)
    for (const auto& part : split(v, ','))
      if (!trim(part).empty()) out.emplace_back(trim(part));
  return out;
}

std::string read_version(const config::Config& cfg) {
  if (cfg.project.version_file.empty()) return "";
  auto text = read_file(cfg.root / cfg.project.version_file);
  return text ? std::string(trim(*text)) : "";
}

int run_smoke(const std::vector<std::string>& argv) {
  auto args = Args::parse(argv, {kConfigFlag, {"service", true}, {"only", true}, {"json"}, {"junit", true}});
  if (!args) return report_error(args.error(), kExitUsage);
  if (args->help()) return print_help(kHelp);
  if (args->positionals().size() != 1)
    return report_error("smoke needs one environment: villager smoke ENV", kExitUsage);
  auto cfg = load_project(*args);
  if (!cfg) return report_error(cfg.error(), kExitUsage);
  const std::string env_name = args->positionals()[0];
  const config::EnvironmentConfig* env = cfg->environment(env_name);
  if (!env) {
    std::vector<std::string> names;
    for (const auto& e : cfg->environments) names.push_back(e.name);
    std::string hint = suggest(env_name, names);
    return report_error(
        "unknown environment '" + env_name + "'" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)"),
        kExitUsage);
  }
  auto targets = smoke_targets(*cfg, *env, comma_list(args->get_all("service")));
  if (!targets) return report_error(targets.error().context("smoke " + env_name), kExitUsage);

  smoke::SmokeOptions opts;
  opts.only = comma_list(args->get_all("only"));
  // The environment's encrypted store first, then the process environment (a url environment tested
  // from CI); the suite registers every value it reads for masking.
  opts.secret = environment_secret_lookup(*cfg, env_name);
  opts.extra_scan_paths = smoke::local_scan_paths(*cfg, *env, *targets);
  scan_own_state(*cfg, opts);  // no secret or canary may reach villager's store either
  opts.version = read_version(*cfg);
  // Signed waivers of this environment let known findings through, still reported (docs/smoke.md).
  opts.waivers = environment_waiver_lookup(*cfg, env_name);
  // A lambda environment keeps its storage and logs in S3 and CloudWatch Logs.
  if (env->target == config::TargetKind::kLambda) opts.remote_sources = lambda_remote_sources(*cfg, *env);

  auto report = smoke::run_smoke(*cfg, *targets, opts);
  if (!report)
    return report_error(report.error().context("smoke " + env_name), exit_code_for(report.error()));
  if (args->has("junit")) {
    auto st = write_file_atomic(args->get("junit"), smoke::to_junit(*report));
    if (!st) return report_error(st.error().context("writing JUnit report"), kExitFailed);
  }
  if (args->has("json"))
    std::cout << smoke::to_json(*report);
  else
    smoke::print_human(*report, std::cout, ::isatty(STDOUT_FILENO));
  return report->passed ? kExitOk : kExitFailed;
}

}  // namespace

const Command kSmokeCommand = {"smoke", "run the smoke suite against an environment", kHelp, run_smoke};

}  // namespace villager::cli
