#include "cli/pipeline_hooks.h"

#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/fs.h"
#include "base/redact.h"
#include "base/strings.h"
#include "cli/lambda_smoke.h"
#include "gate/waiver.h"
#include "report/review.h"
#include "secrets/key.h"
#include "secrets/secret_store.h"
#include "smoke/smoke.h"
#include "targets/lambda_watch.h"

namespace villager::cli {

Result<std::unique_ptr<targets::Target>> make_environment_target(const config::Config& config,
                                                                 const std::string& env) {
  if (!config.environment(env)) {
    std::vector<std::string> names;
    for (const auto& e : config.environments) names.push_back(e.name);
    std::string hint = suggest(env, names);
    return InvalidArgument("no environment '" + env + "' in " + config.file.string() +
                           (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
  }
  return targets::make_target(config, env);
}

smoke::SecretLookup environment_secret_lookup(const config::Config& config, const std::string& env) {
  auto store = std::make_shared<std::optional<secrets::SecretStore>>();
  auto opened = secrets::SecretStore::open(config.state_dir(), env,
                                           secrets::KeySource::for_env(config.state_dir(), env));
  if (opened) store->emplace(std::move(*opened));
  return [store](const std::string& name) -> std::optional<std::string> {
    if (store->has_value()) {
      if (auto v = (*store)->get(name); v) return v->reveal();
    }
    // Not in the environment's store: the process environment (a url environment tested from CI).
    if (const char* v = std::getenv(name.c_str()); v && *v) {
      register_secret(v);
      return std::string(v);
    }
    return std::nullopt;
  };
}

void scan_own_state(const config::Config& config, smoke::SmokeOptions& opts) {
  // The -wal file holds no SQLite locks (those are on state.db and state.db-shm): a plain read is safe.
  opts.extra_scan_paths.push_back(config.state_dir() / (std::string(store::kStateDbName) + "-wal"));
  opts.extra_scan_sources = [dir = config.state_dir()]() -> Result<std::vector<smoke::ScanSource>> {
    auto st = store::Store::open(dir, store::OpenOptions{nullptr, /*create_if_missing=*/false});
    if (!st) {
      if (st.error().code == Code::kNotFound) return std::vector<smoke::ScanSource>{};
      return st.error();
    }
    auto bytes = (*st)->image();
    if (!bytes) return bytes.error();
    return std::vector<smoke::ScanSource>{{(*st)->db_path().string(), std::move(*bytes)}};
  };
}

smoke::WaiverLookup environment_waiver_lookup(const config::Config& config, const std::string& env) {
  auto stored = std::make_shared<std::optional<Result<std::vector<gate::StoredWaiver>>>>();
  return [&config, env, stored](const std::string& check, const std::string& service,
                                const std::string& fp) -> smoke::WaiverVerdict {
    if (!stored->has_value()) stored->emplace(gate::list_waivers(config.state_dir() / "waivers"));
    smoke::WaiverVerdict v;
    if (!**stored) {
      v.refused.push_back("waivers unreadable: " + (**stored).error().message);
      return v;
    }
    const auto now = real_clock().now();
    auto w = gate::evaluate_waivers(config, ***stored, env, check, service, fp, now);
    v.refused = w.refused;
    if (w.waived) v.waived = smoke::Waived{w.by, w.note, w.until, w.until - now < smoke::kWaiverWarning};
    return v;
  };
}

Result<std::vector<smoke::SmokeTarget>> smoke_targets(const config::Config& config,
                                                      const config::EnvironmentConfig& env,
                                                      const std::vector<std::string>& services) {
  if (env.target != config::TargetKind::kLambda) return smoke::environment_targets(config, env, services);
  // A lambda environment's public endpoint is each function's alias URL, which the target knows.
  auto target = targets::make_target(config, env.name);
  if (!target) return target.error();
  std::vector<smoke::SmokeTarget> out;
  for (const auto& [svc, fn] : env.lambda.functions) {
    if (!services.empty() && std::find(services.begin(), services.end(), svc) == services.end()) continue;
    out.push_back({svc, (*target)->public_url(svc), "", ""});
  }
  return out;
}

namespace {

// Runs the suite against `targets`, stores the JSON report in `detail`, and turns failures into an error
// that names each failed check.
Status run_suite(const config::Config& config, const config::EnvironmentConfig& env,
                 const std::vector<smoke::SmokeTarget>& targets, const std::string& version,
                 const smoke::SecretLookup& lookup, const std::string& junit_path,
                 store::StepDetail& detail) {
  smoke::SmokeOptions opts;
  opts.secret = lookup;
  opts.waivers = environment_waiver_lookup(config, env.name);
  opts.version = version;
  opts.extra_scan_paths = smoke::local_scan_paths(config, env, targets);
  scan_own_state(config, opts);  // no secret or canary may reach villager's store either
  // A lambda environment keeps its storage and logs in S3 and CloudWatch Logs.
  if (env.target == config::TargetKind::kLambda) opts.remote_sources = lambda_remote_sources(config, env);
  auto report = smoke::run_smoke(config, targets, opts);
  if (!report) return report.error().context("smoke suite");
  detail.smoke = nlohmann::json::parse(smoke::to_json(*report), nullptr, /*allow_exceptions=*/false);
  if (!junit_path.empty())
    if (auto s = write_file_atomic(junit_path, smoke::to_junit(*report)); !s.ok())
      return s.error().context("writing the smoke suite's JUnit report");
  if (report->passed) return Ok();
  std::vector<std::string> failed;
  for (const auto& c : report->checks) {
    if (c.passed) continue;
    std::string line = c.name + (c.service.empty() ? "" : "/" + c.service);
    if (!c.failures.empty())
      line += " (" + c.failures[0].what + ": expected " + c.failures[0].expected + ", got " +
              c.failures[0].actual + ")";
    failed.push_back(line);
  }
  std::ostringstream human;
  smoke::print_human(*report, human, false);
  std::cerr << redact(human.str());
  return FailedPrecondition("smoke checks failed: " + join(failed, "; "));
}

}  // namespace

pipeline::DeployHooks make_deploy_hooks(const config::Config& config, const std::string& env_name,
                                        store::Store&, const std::string& junit_path) {
  pipeline::DeployHooks hooks;
  const auto* env = config.environment(env_name);
  if (!env) return hooks;
  auto lookup = environment_secret_lookup(config, env_name);
  hooks.pre_traffic_smoke = [&config, env, lookup, junit_path](
                                const std::string& service, const std::string& slot_url,
                                const std::string& version, store::StepDetail& detail) {
    return run_suite(config, *env, {{service, slot_url, "", ""}}, version, lookup, junit_path, detail);
  };
  hooks.post_traffic_smoke = [&config, env, lookup, junit_path](const std::vector<std::string>& services,
                                                                const std::string& version,
                                                                store::StepDetail& detail) -> Status {
    auto targets = smoke_targets(config, *env, services);
    if (!targets) return targets.error();
    return run_suite(config, *env, *targets, version, lookup, junit_path, detail);
  };
  // A lambda environment's watch reads CloudWatch (targets/lambda_watch.h).
  if (env->target == config::TargetKind::kLambda)
    hooks.watch = [&config, env](store::StepDetail&) {
      return targets::watch_lambda_alarms(config, *env, real_clock());
    };
  return hooks;
}

std::vector<std::string> write_reviews(const config::Config& config, store::Store& store,
                                       const std::vector<pipeline::ServiceResult>& results,
                                       const std::string& trigger, const pipeline::ProgressFn& progress) {
  std::vector<std::string> paths;
  for (const auto& r : results) {
    if (r.deployment_id <= 0) continue;
    report::ReviewExtra extra;
    auto dep = store::get_deployment(store, r.deployment_id);
    if (!dep) continue;
    const auto* env = config.environment(dep->environment);
    if (env && env->requires_roles.empty()) extra.approvals = std::vector<report::Approval>{};
    // The approvals the gate accepted for this service, from the deployment's record.
    auto detail = nlohmann::json::parse(dep->detail, nullptr, false);
    if (detail.is_object() && detail.contains("gate") && detail["gate"].contains("approvals_used")) {
      std::vector<report::Approval> used;
      for (const auto& a : detail["gate"]["approvals_used"]) {
        if (a.value("service", "") != r.service) continue;
        auto at = parse_rfc3339(a.value("issued_at", ""));
        used.push_back({a.value("role", ""), a.value("signer", ""), at ? unix_millis(*at) : 0});
      }
      extra.approvals = used;
    }
    extra.trigger = trigger;
    auto path = report::write_review_for_deployment(config, store, r.deployment_id, extra);
    if (!path) {
      progress("could not write the review of " + r.service + ": " + path.error().message);
      continue;
    }
    paths.push_back(path->string());
    progress("review: " + path->string());
  }
  return paths;
}

pipeline::ProgressFn stderr_progress(const std::string& what) {
  return [what](const std::string& line) { std::cerr << redact("villager: " + what + ": " + line) << "\n"; };
}

}  // namespace villager::cli
