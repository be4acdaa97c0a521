#include "pipeline/deploy.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "artifact/manifest.h"
#include "base/strings.h"
#include "gate/gate.h"
#include "pipeline/history.h"
#include "pipeline/package.h"
#include "secrets/resolve.h"

namespace villager::pipeline {

namespace {

using json = nlohmann::json;

// One deploy in progress: the per-service records and the helpers that keep store and audit in step.
class Run {
 public:
  Run(store::Store& store, Clock& clock, const ProgressFn& progress, std::string env, std::string actor)
      : store_(store), clock_(clock), progress_(progress), env_(std::move(env)), actor_(std::move(actor)) {}

  void say(const std::string& line) {
    if (progress_) progress_(line);
  }

  // Records a step for every service in `results` and returns its outcome.
  template <class F>
  Status step(std::vector<ServiceResult>& results, const std::string& name, F&& body,
              json detail = json::object()) {
    std::vector<std::pair<int64_t, int>> seqs;
    for (const auto& r : results) {
      auto seq = store::add_step(store_, r.deployment_id, name);
      if (seq) seqs.emplace_back(r.deployment_id, *seq);
    }
    auto started = clock_.steady_now();
    std::string extra;
    Status s = body(extra);
    if (!extra.empty()) {
      auto j = json::parse(extra, nullptr, false);
      if (j.is_object()) detail.update(j);
    }
    detail["duration_ms"] =
        std::chrono::duration_cast<std::chrono::milliseconds>(clock_.steady_now() - started).count();
    if (!s.ok()) detail["error"] = s.error().message;
    for (auto [id, seq] : seqs)
      (void)store::finish_step(store_, id, seq,
                               s.ok() ? store::StepStatus::kSucceeded : store::StepStatus::kFailed,
                               detail.dump());
    return s;
  }

  void audit(const std::string& kind, const std::string& service, json data) {
    (void)store::append_audit(store_, {actor_, kind, env_ + "/" + service, data.dump()});
  }

  void finish(std::vector<ServiceResult>& results, store::DeploymentStatus status,
              const std::string& message) {
    for (auto& r : results) {
      r.status = std::string(store::to_string(status));
      json detail = record_;
      detail["message"] = message;
      (void)store::finish_deployment(store_, r.deployment_id, status, detail.dump());
    }
  }

  // Kept with every deployment row when it finishes (the gate's decision, approval-to-deployed).
  json& record() { return record_; }

  store::Store& store() { return store_; }
  Clock& clock() { return clock_; }

 private:
  store::Store& store_;
  Clock& clock_;
  const ProgressFn& progress_;
  std::string env_;
  std::string actor_;
  json record_ = json::object();
};

std::vector<std::string> service_names(const std::vector<ServiceResult>& results) {
  std::vector<std::string> out;
  for (const auto& r : results) out.push_back(r.service);
  return out;
}

std::string short_digest(const std::string& d) {
  return d.substr(0, std::min<size_t>(d.size(), 19));
}

// Serving digest per service, read from the target.
Result<std::map<std::string, targets::SlotInfo>> serving_slots(targets::Target& target) {
  auto slots = target.slots();
  if (!slots) return slots.error();
  std::map<std::string, targets::SlotInfo> out;
  for (const auto& s : *slots)
    if (s.role == "serving") out[s.service] = s;
  return out;
}

// Puts every service back on what it served before this deploy and stops the candidates.
void restore_previous(targets::Target& target, const std::vector<ServiceResult>& results, Run& run) {
  for (const auto& r : results) {
    if (!r.from_digest.empty()) {
      if (auto s = target.set_weights(r.service, {{r.from_digest, 100}}); !s.ok())
        run.say("could not route " + r.service + " back to " + short_digest(r.from_digest) + ": " +
                s.error().message);
    } else {
      (void)target.set_weights(r.service, {});
    }
    (void)target.stop(r.service, r.digest);
  }
}

// The gate's reasons about `service`, one line each ("qa: missing_role: ...").
std::vector<std::string> gate_reasons(const gate::GateDecision& d, const std::string& service) {
  std::vector<std::string> out;
  for (const auto& r : d.reasons)
    if (r.service == service)
      out.push_back((r.role.empty() ? "" : r.role + ": ") + std::string(gate::reject_code_name(r.code)) +
                    ": " + r.message);
  return out;
}

// Tells hooks.notify of one event of `r`, timed from `started`.
void tell(const DeployHooks& hooks, Clock& clock, SteadyTime started, std::string_view kind,
          const std::string& env, const ServiceResult& r, const std::string& actor, std::string outcome,
          std::vector<std::string> reasons = {}, std::string trigger = {}, int weight = -1) {
  if (!hooks.notify) return;
  notify::PipelineEvent e;
  e.kind = std::string(kind);
  e.environment = env;
  e.service = r.service;
  e.version = r.version;
  e.digest = r.digest;
  e.actor = actor;
  e.outcome = std::move(outcome);
  e.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock.steady_now() - started).count();
  e.reasons = std::move(reasons);
  e.trigger = std::move(trigger);
  e.weight = weight;
  e.at_ms = unix_millis(clock.now());
  e.deployment_id = r.deployment_id;
  hooks.notify(e);
}

}  // namespace

std::vector<std::string> environment_services(const config::EnvironmentConfig& env,
                                              const config::Config& config) {
  std::vector<std::string> out;
  for (const auto& s : config.services)
    if (env.listen.count(s.name) || env.urls.count(s.name) || env.lambda.functions.count(s.name))
      out.push_back(s.name);
  return out;
}

DeployOutcome deploy(const config::Config& config, store::Store& store, targets::Target& target,
                     const DeployRequest& request, const DeployHooks& hooks, Clock& clock,
                     const ProgressFn& progress) {
  DeployOutcome out;
  auto started = clock.steady_now();
  auto done = [&](int code, std::string message) {
    out.exit_code = code;
    out.message = std::move(message);
    out.duration_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(clock.steady_now() - started).count();
    return out;
  };
  const auto* env = config.environment(request.environment);
  if (!env) return done(2, "no environment '" + request.environment + "' in " + config.file.string());
  Run run(store, clock, progress, env->name, request.actor);
  auto emit = [&](std::string_view kind, const ServiceResult& r, std::string outcome,
                  std::vector<std::string> reasons = {}, std::string trigger = {}, int weight = -1) {
    tell(hooks, clock, started, kind, env->name, r, request.actor, std::move(outcome), std::move(reasons),
         std::move(trigger), weight);
  };

  // 1. Which services.
  std::vector<std::string> services =
      request.services.empty() ? environment_services(*env, config) : request.services;
  for (const auto& s : services)
    if (!env->listen.count(s) && !env->urls.count(s) && !env->lambda.functions.count(s))
      return done(2, "environment '" + env->name + "' does not serve service '" + s + "'");
  // 2. Can we roll this back? Something must be serving with a known-good release, unless --first.
  auto serving = serving_slots(target);
  if (!serving) return done(1, serving.error().context("reading what " + env->name + " serves").message);
  std::vector<ServiceResult> results;
  for (const auto& service : services) {
    ServiceResult r;
    r.service = service;
    if (auto it = serving->find(service); it != serving->end()) {
      r.from_digest = it->second.digest;
      r.from_version = it->second.version;
    }
    if (r.from_digest.empty() && !request.first)
      return done(3, "nothing serves " + env->name + "/" + service +
                         ", so this release could not be rolled back; pass --first for a first deploy");
    results.push_back(r);
  }

  std::vector<std::string> to_package;
  for (const auto& s : services)
    if (!request.artifacts.count(s)) to_package.push_back(s);
  std::map<std::string, std::pair<std::string, std::string>> artifacts;  // service -> (digest, version)
  if (!to_package.empty()) {
    // 3. Package what was not named.
    run.say("packaging " + join(to_package, ", "));
    std::vector<artifact::Finding> findings;
    auto packed = package_services(config, to_package, &findings);
    if (!packed) {
      for (const auto& f : findings)
        run.say("  " + f.file + ":" + std::to_string(f.line) + ":" + std::to_string(f.column) + ": " +
                f.rule + " " + f.masked);
      return done(packed.error().code == Code::kPermissionDenied ? 3 : 1, packed.error().message);
    }
    for (const auto& p : *packed) {
      artifacts[p.service] = {p.result.digest, p.version};
      (void)store::upsert_release(store, {p.service, p.version, p.result.digest, p.result.manifest.git_commit,
                                          p.result.manifest.git_dirty, 0, p.commit_time});
    }
  }
  for (const auto& [service, digest] : request.artifacts) {
    auto manifest = artifact::read_manifest(config.state_dir() / "artifacts", digest);
    if (!manifest) return done(1, manifest.error().context("artifact " + digest).message);
    if (manifest->service != service)
      return done(2, "artifact " + short_digest(digest) + " was packaged for service '" + manifest->service +
                         "', not '" + service + "'");
    artifacts[service] = {digest, manifest->version};
  }

  // 4. Every artifact must still be the bytes that were packaged (and approved).
  for (const auto& [service, dv] : artifacts)
    if (auto s = artifact::verify_artifact(config.state_dir() / "artifacts", dv.first); !s.ok())
      return done(s.error().code == Code::kConflict ? 3 : 1,
                  s.error().context("verifying " + service + " " + short_digest(dv.first)).message);

  for (auto& r : results) {
    r.digest = artifacts[r.service].first;
    r.version = artifacts[r.service].second;
    if (r.from_digest == r.digest)
      return done(1, env->name + "/" + r.service + " already serves " + r.version + " (" +
                         short_digest(r.digest) + ")");
    // What a rollback would return to must still be here, byte for byte.
    if (!r.from_digest.empty())
      if (auto s = artifact::verify_artifact(config.state_dir() / "artifacts", r.from_digest); !s.ok())
        return done(3, "cannot roll " + env->name + "/" + r.service +
                           " back: the serving release's artifact " + short_digest(r.from_digest) +
                           " is unusable (" + s.error().message + "); refusing to deploy");
  }

  // Every secret the services need must exist before anything starts.
  {
    std::vector<config::ServiceConfig> needed;
    for (const auto& r : results) needed.push_back(*config.service(r.service));
    if (auto s = secrets::check_required_secrets(config.state_dir(), env->name, needed); !s.ok())
      return done(1, s.error().message);
  }

  // 5. Gate: signed approvals for exactly these bytes and this environment, and monitoring in place.
  std::optional<SystemTime> last_approval;
  if (!env->requires_roles.empty()) {
    if (auto s = gate::check_monitoring_coverage(config, env->name); !s.ok())
      return done(3, s.error().message);
    std::vector<gate::GateArtifact> arts;
    for (const auto& r : results) arts.push_back({r.service, r.digest, r.version});
    auto decision = gate::evaluate_gate(config, env->name, arts, clock.now(),
                                        {request.override_gate, request.override_reason});
    if (!decision) return done(2, decision.error().message);
    out.gate_json = gate::decision_json(*decision);
    if (!decision->allowed) {
      for (const auto& r : results) run.audit("gate.refused", r.service, json::parse(out.gate_json));
      for (const auto& r : results)
        emit(notify::kGateRefused, r, "refused", gate_reasons(*decision, r.service));
      return done(3, "gate refused the deploy to " + env->name + ":\n" + decision->summary());
    }
    if (decision->overridden) {
      run.say("break-glass override: " + decision->override_reason);
      for (const auto& r : results) run.audit("deploy.override", r.service, json::parse(out.gate_json));
    }
    last_approval = decision->last_approval_at;
    run.record()["gate"] = json::parse(out.gate_json);
  } else if (request.override_gate) {
    return done(2, "environment '" + env->name + "' has no gate to override");
  }

  // 6. Record the deployments.
  for (auto& r : results) {
    store::Deployment d;
    d.environment = env->name;
    d.service = r.service;
    d.kind = store::DeploymentKind::kDeploy;
    d.version = r.version;
    d.digest = r.digest;
    d.from_digest = r.from_digest;
    d.actor = request.actor;
    d.started_at = unix_millis(clock.now());
    auto id = store::create_deployment(store, d);
    if (!id) return done(1, id.error().context("recording the deployment").message);
    r.deployment_id = *id;
    run.audit("deploy.started", r.service,
              {{"version", r.version}, {"digest", r.digest}, {"from", r.from_digest}});
    emit(notify::kDeployStarted, r, "started");
  }
  out.services = results;

  // 6b. Can we roll this back? Rehearse it: the previous release in a spare slot, health-checked and
  // smoke-tested, a private route swapped to it and back. The public route is never touched.
  if (env->rehearse && target.supports_rehearsal()) {
    for (auto& r : results) {
      if (r.from_digest.empty()) continue;
      run.say("rehearsing a rollback of " + r.service + " to " + r.from_version);
      std::vector<ServiceResult> one{r};
      Status s = run.step(one, "rehearsal:" + r.service, [&](std::string& detail) -> Status {
        auto spare = target.rehearsal_start(r.service, r.from_digest, r.from_version);
        if (!spare) return spare.error();
        if (hooks.pre_traffic_smoke) {
          std::string smoke_detail;
          Status smoked =
              hooks.pre_traffic_smoke(r.service, target.slot_url(*spare), r.from_version, smoke_detail);
          if (!smoked.ok()) {
            (void)target.rehearsal_finish(r.service, r.from_digest, true);
            return smoked.error().context("smoke of the previous release");
          }
        }
        auto swap_ms = target.rehearsal_finish(r.service, r.from_digest);
        if (!swap_ms) return swap_ms.error();
        detail = json{{"swap_ms", *swap_ms}, {"previous", r.from_digest}}.dump();
        run.say("  rehearsal passed: private route swap in " + std::to_string(*swap_ms) + " ms");
        return Ok();
      });
      if (!s.ok()) {
        run.finish(results, store::DeploymentStatus::kFailed,
                   "rollback rehearsal failed: " + s.error().message);
        for (auto& x : results) {
          run.audit("deploy.refused", x.service, {{"reason", "rollback rehearsal failed"}});
          emit(notify::kDeployFailed, x, "refused", {"rollback rehearsal failed: " + s.error().message});
        }
        out.services = results;
        return done(3, "rollback rehearsal of " + r.service +
                           " failed, so this release could not be rolled back: " + s.error().message);
      }
    }
  }

  // 7. Start the candidates; no traffic moves yet.
  for (auto& r : results) {
    run.say("starting " + r.service + " " + r.version + " (" + short_digest(r.digest) + ")");
    std::string slot_url;
    Status s = run.step(results, "start_candidate:" + r.service, [&](std::string&) -> Status {
      auto slot = target.start_candidate(r.service, r.digest, r.version);
      if (!slot) return slot.error();
      slot_url = target.slot_url(*slot);
      run.say("  " + r.service + " healthy on " + slot_url);
      return Ok();
    });
    // 8. Pre-traffic smoke against the candidate itself.
    if (s.ok() && hooks.pre_traffic_smoke) {
      run.say("smoke-testing the " + r.service + " candidate");
      s = run.step(results, "pre_traffic_smoke:" + r.service, [&](std::string& detail) -> Status {
        return hooks.pre_traffic_smoke(r.service, slot_url, r.version, detail);
      });
      if (!s.ok()) emit(notify::kSmokeFailed, r, "blocked", {s.error().message});
    } else if (!s.ok()) {
      emit(notify::kDeployFailed, r, "failed", {s.error().message});
    }
    if (!s.ok()) {
      restore_previous(target, results, run);
      run.finish(results, store::DeploymentStatus::kFailed, s.error().message);
      for (auto& x : results) run.audit("deploy.failed", x.service, {{"reason", s.error().message}});
      out.services = results;
      return done(1, s.error().message + "; no traffic was moved");
    }
  }

  // 9. Shift traffic by the environment's strategy.
  std::vector<int> steps = env->strategy == config::Strategy::kCanary ? env->steps : std::vector<int>{100};
  for (int w : steps) {
    Status s = run.step(
        results, "shift:" + std::to_string(w),
        [&](std::string& detail) -> Status {
          for (const auto& r : results) {
            std::map<std::string, int> weights = {{r.digest, w}};
            if (!r.from_digest.empty() && w < 100) weights[r.from_digest] = 100 - w;
            VILLAGER_RETURN_IF_ERROR(target.set_weights(r.service, weights));
          }
          run.say("traffic at " + std::to_string(w) + "%");
          if (w < 100) {
            clock.sleep_for(env->step_interval);
            if (hooks.canary_check)
              for (const auto& r : results)
                VILLAGER_RETURN_IF_ERROR(hooks.canary_check(r.service, r.digest, w, detail));
            for (const auto& r : results) emit(notify::kCanaryStep, r, "passed", {}, {}, w);
          }
          return Ok();
        },
        json{{"weight", w}});
    if (!s.ok()) {
      restore_previous(target, results, run);
      run.finish(results, store::DeploymentStatus::kRolledBack, s.error().message);
      for (auto& x : results)
        run.audit("deploy.rolled_back", x.service, {{"reason", s.error().message}, {"weight", w}});
      for (auto& x : results) emit(notify::kCanaryStep, x, "failed", {s.error().message}, {}, w);
      for (auto& x : results)
        emit(notify::kRolledBack, x, "rolled_back", {},
             "canary at " + std::to_string(w) + "%: " + s.error().message);
      out.services = results;
      return done(4, "canary at " + std::to_string(w) + "% failed: " + s.error().message + "; rolled back");
    }
  }

  // Approval to deployed: the last required approval to 100% traffic.
  if (last_approval) {
    out.approval_to_deployed_ms = unix_millis(clock.now()) - unix_millis(*last_approval);
    run.record()["approval_to_deployed_ms"] = out.approval_to_deployed_ms;
    run.say("approval to deployed: " +
            format_duration(std::chrono::milliseconds(out.approval_to_deployed_ms)));
  }

  // 10. Promote: the new release serves; the old one stays warm for an instant rollback.
  Status promoted = run.step(results, "promote", [&](std::string&) -> Status {
    for (const auto& r : results) VILLAGER_RETURN_IF_ERROR(target.promote(r.service, r.digest));
    return Ok();
  });
  if (promoted.ok())
    for (const auto& r : results) emit(notify::kDeployed, r, "succeeded");

  // 11. Post-traffic smoke against the public endpoints, then the watch window.
  Status checked = promoted;
  if (checked.ok() && hooks.post_traffic_smoke) {
    run.say("smoke-testing the public endpoints");
    checked = run.step(results, "post_traffic_smoke", [&](std::string& detail) {
      return hooks.post_traffic_smoke(service_names(results), results.front().version, detail);
    });
  }
  if (checked.ok() && hooks.watch) {
    run.say("watching for " + format_duration(env->watch));
    checked = run.step(results, "watch", hooks.watch);
    if (checked.ok())
      for (const auto& r : results) emit(notify::kWatchPassed, r, "passed");
  }
  if (!checked.ok()) {
    run.say("rolling back: " + checked.error().message);
    for (const auto& r : results) {
      if (r.from_digest.empty()) continue;
      (void)target.set_weights(r.service, {{r.from_digest, 100}});
      (void)target.promote(r.service, r.from_digest);
      (void)target.stop(r.service, r.digest);
    }
    // The restored release is smoke-tested: a rollback that lands on something broken must say so.
    std::string after = "; rolled back";
    if (hooks.post_traffic_smoke && !results.front().from_version.empty()) {
      run.say("smoke-testing the restored release");
      Status restored = run.step(results, "post_rollback_smoke", [&](std::string& detail) {
        return hooks.post_traffic_smoke(service_names(results), results.front().from_version, detail);
      });
      after += restored.ok() ? " (the restored release passes the smoke suite)"
                             : "; the restored release FAILS the smoke suite: " + restored.error().message;
    }
    run.finish(results, store::DeploymentStatus::kRolledBack, checked.error().message);
    for (auto& x : results) run.audit("deploy.rolled_back", x.service, {{"reason", checked.error().message}});
    for (auto& x : results) emit(notify::kRolledBack, x, "rolled_back", {}, checked.error().message);
    out.services = results;
    return done(4, checked.error().message + after);
  }

  // 12. Known-good: this release is now what a later rollback returns to.
  for (auto& r : results) {
    (void)store::mark_known_good(store, {0, env->name, r.service, r.digest, r.version, 0});
    run.audit("deploy.succeeded", r.service, {{"version", r.version}, {"digest", r.digest}});
  }
  run.finish(results, store::DeploymentStatus::kSucceeded, "deployed");
  out.services = results;
  return done(0, "deployed");
}

RollbackOutcome rollback(const config::Config& config, store::Store& store, targets::Target& target,
                         const RollbackRequest& request, const DeployHooks& hooks, Clock& clock,
                         const ProgressFn& progress) {
  RollbackOutcome out;
  auto started = clock.steady_now();
  auto done = [&](int code, std::string message) {
    out.exit_code = code;
    out.message = std::move(message);
    out.duration_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(clock.steady_now() - started).count();
    return out;
  };
  const auto* env = config.environment(request.environment);
  if (!env) return done(2, "no environment '" + request.environment + "' in " + config.file.string());
  Run run(store, clock, progress, env->name, request.actor);
  std::vector<std::string> services =
      request.services.empty() ? environment_services(*env, config) : request.services;

  auto slots = target.slots();
  if (!slots) return done(1, slots.error().context("reading what " + env->name + " runs").message);

  for (const auto& service : services) {
    std::string current, current_version;
    std::map<std::string, targets::SlotInfo> running;
    for (const auto& s : *slots) {
      if (s.service != service) continue;
      running[s.digest] = s;
      if (s.role == "serving") {
        current = s.digest;
        current_version = s.version;
      }
    }
    auto to = rollback_target(store, env->name, service, current, request.to_version);
    if (!to) return done(1, to.error().context(env->name + "/" + service).message);

    ServiceResult r;
    r.service = service;
    r.digest = to->digest;
    r.version = to->version;
    r.from_digest = current;
    r.from_version = current_version;
    store::Deployment d;
    d.environment = env->name;
    d.service = service;
    d.kind = store::DeploymentKind::kRollback;
    d.version = r.version;
    d.digest = r.digest;
    d.from_digest = current;
    d.actor = request.actor;
    d.started_at = unix_millis(clock.now());
    auto id = store::create_deployment(store, d);
    if (!id) return done(1, id.error().context("recording the rollback").message);
    r.deployment_id = *id;
    std::vector<ServiceResult> one{r};
    run.audit("rollback.started", service, {{"to", r.digest}, {"from", current}, {"reason", request.reason}});

    bool warm = running.count(r.digest) > 0;
    auto t0 = clock.steady_now();
    Status s = Ok();
    if (!warm) {
      // Cold: the previous release must start and pass its health check before it takes traffic.
      run.say("starting " + service + " " + r.version + " (cold rollback)");
      s = run.step(one, "start_previous", [&](std::string&) -> Status {
        auto slot = target.start_candidate(service, r.digest, r.version);
        if (!slot) return slot.error();
        return Ok();
      });
    }
    if (s.ok()) {
      s = run.step(
          one, "route_swap",
          [&](std::string&) -> Status {
            VILLAGER_RETURN_IF_ERROR(target.set_weights(service, {{r.digest, 100}}));
            out.swap_ms[service] =
                std::chrono::duration_cast<std::chrono::milliseconds>(clock.steady_now() - t0).count();
            return target.promote(service, r.digest);
          },
          json{{"warm", warm}});
    }
    if (s.ok() && !current.empty()) {
      // The release rolled back from is not kept warm: it is what went wrong.
      (void)target.stop(service, current);
    }
    out.warm[service] = warm;
    if (!s.ok()) {
      run.finish(one, store::DeploymentStatus::kFailed, s.error().message);
      run.audit("rollback.failed", service, {{"reason", s.error().message}});
      tell(hooks, clock, started, notify::kRollbackFailed, env->name, one[0], request.actor, "failed",
           {s.error().message}, request.reason);
      // Services already swapped back stay swapped; their records are closed.
      run.finish(out.services, store::DeploymentStatus::kSucceeded, request.reason);
      out.services.push_back(one[0]);
      return done(1, "rollback of " + env->name + "/" + service + " failed: " + s.error().message);
    }
    run.say("rolled back " + service + " to " + r.version + " in " + std::to_string(out.swap_ms[service]) +
            " ms" + (warm ? " (warm: route swap)" : " (cold start)"));
    out.services.push_back(one[0]);
  }
  // The restored release is smoke-tested before the rollback counts as done.
  Status smoked = finish_rollback(store, env->name, out.services, out.swap_ms, hooks, clock, started,
                                  request.actor, request.reason, progress);
  if (!smoked.ok())
    return done(1,
                "rolled back, but the smoke suite fails on the restored release: " + smoked.error().message);
  return done(0, "rolled back");
}

Status finish_rollback(store::Store& store, const std::string& environment,
                       std::vector<ServiceResult>& restored, const std::map<std::string, int64_t>& swap_ms,
                       const DeployHooks& hooks, Clock& clock, SteadyTime started, const std::string& actor,
                       const std::string& reason, const ProgressFn& progress) {
  Run run(store, clock, progress, environment, actor);
  Status smoked = Ok();
  if (hooks.post_traffic_smoke && !restored.empty()) {
    run.say("smoke-testing the restored release");
    smoked = run.step(restored, "post_rollback_smoke", [&](std::string& d) {
      return hooks.post_traffic_smoke(service_names(restored), restored.front().version, d);
    });
  }
  for (auto& r : restored) {
    if (smoked.ok()) (void)store::mark_known_good(store, {0, environment, r.service, r.digest, r.version, 0});
    std::vector<ServiceResult> one{r};
    run.finish(one, smoked.ok() ? store::DeploymentStatus::kSucceeded : store::DeploymentStatus::kFailed,
               smoked.ok() ? reason : smoked.error().message);
    r.status = one[0].status;
    auto swap = swap_ms.find(r.service);
    run.audit(smoked.ok() ? "rollback.succeeded" : "rollback.smoke_failed", r.service,
              {{"to", r.digest}, {"swap_ms", swap == swap_ms.end() ? -1 : swap->second}});
    tell(hooks, clock, started, smoked.ok() ? notify::kRolledBack : notify::kRollbackFailed, environment, r,
         actor, smoked.ok() ? "rolled_back" : "failed",
         smoked.ok() ? std::vector<std::string>{} : std::vector<std::string>{smoked.error().message}, reason);
  }
  return smoked;
}

}  // namespace villager::pipeline
