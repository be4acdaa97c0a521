#include "pipeline/deploy.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "artifact/manifest.h"
#include "base/hash.h"
#include "base/strings.h"
#include "gate/gate.h"
#include "pipeline/abort.h"
#include "pipeline/fleet_rollout.h"
#include "pipeline/held.h"
#include "pipeline/history.h"
#include "pipeline/package.h"
#include "pipeline/run.h"
#include "secrets/resolve.h"
#include "store/step_kinds.h"

namespace villager::pipeline {

namespace {

using json = nlohmann::json;
using store::step_name;
using store::StepKind;

std::vector<std::string> service_names(const std::vector<ServiceResult>& results) {
  std::vector<std::string> out;
  for (const auto& r : results) out.push_back(r.service);
  return out;
}

// Serving digest per service, read from the target.
Result<std::map<std::string, targets::SlotInfo>> serving_slots(targets::Target& target) {
  auto slots = target.slots();
  if (!slots) return slots.error();
  std::map<std::string, targets::SlotInfo> out;
  for (const auto& s : *slots)
    if (s.role == targets::SlotRole::kServing) out[s.service] = s;
  return out;
}

// Puts every service back on what it served before this deploy and stops the candidates: the one way
// traffic is restored, before promotion (`promoted` false) or after it (then the previous release is
// promoted back; a first deploy, with nothing to return to, keeps serving). Failures are said, not dropped.
void restore_previous(targets::Target& target, const std::vector<ServiceResult>& results, Run& run,
                      bool promoted = false) {
  auto said = [&](const Status& s, const std::string& what) {
    if (!s.ok()) run.say("could not " + what + ": " + s.error().message);
  };
  for (const auto& r : results) {
    if (r.from_digest.empty()) {
      if (promoted) continue;
      said(target.set_weights(r.service, {}), "take " + r.service + "'s route down");
    } else {
      said(target.set_weights(r.service, {{r.from_digest, 100}}),
           "route " + r.service + " back to " + short_digest(r.from_digest));
      if (promoted)
        said(target.promote(r.service, r.from_digest), "mark " + short_digest(r.from_digest) + " serving");
    }
    said(target.stop(r.service, r.digest), "stop " + r.service + " " + short_digest(r.digest));
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
  notify::PipelineEvent e = service_event(kind, env, r, actor, std::move(outcome), clock);
  e.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock.steady_now() - started).count();
  e.reasons = std::move(reasons);
  e.trigger = std::move(trigger);
  e.weight = weight;
  hooks.notify(e);
}

}  // namespace

notify::PipelineEvent service_event(std::string_view kind, const std::string& env, const ServiceResult& r,
                                    const std::string& actor, std::string outcome, Clock& clock) {
  notify::PipelineEvent e;
  e.kind = std::string(kind);
  e.environment = env;
  e.service = r.service;
  e.version = r.version;
  e.digest = r.digest;
  e.actor = actor;
  e.outcome = std::move(outcome);
  e.at_ms = unix_millis(clock.now());
  e.deployment_id = r.deployment_id;
  return e;
}

namespace {

// One deploy, as its stages in order. Each stage returns nothing to go on, or the outcome that ends the
// deploy (with its exit code: 1 failed before traffic, 2 usage, 3 refused, 4 rolled back).
class Deployer {
 public:
  Deployer(const config::Config& config, const config::EnvironmentConfig& env, store::Store& store,
           targets::Target& target, const DeployRequest& request, const DeployHooks& hooks, Clock& clock,
           const ProgressFn& progress)
      : config_(config),
        env_(env),
        store_(store),
        target_(target),
        request_(request),
        hooks_(hooks),
        clock_(clock),
        started_(clock.steady_now()),
        run_(store, clock, progress, env.name, request.actor) {}

  DeployOutcome run() {
    using Stage = std::optional<DeployOutcome> (Deployer::*)();
    std::vector<Stage> stages = {&Deployer::choose_services,    &Deployer::resolve_artifacts,
                                 &Deployer::check_secrets,      &Deployer::pass_gate,
                                 &Deployer::record_deployments, &Deployer::rehearse_rollbacks};
    if (target_.fleet())  // a fleet switches whole hosts, batch by batch (pipeline/fleet_rollout.h)
      stages.push_back(&Deployer::roll_out_batches);
    else
      stages.insert(stages.end(), {&Deployer::start_candidates, &Deployer::shift_traffic});
    stages.push_back(&Deployer::promote_and_verify);
    DeployOutcome out = [&] {
      for (Stage stage : stages)
        if (auto stop = (this->*stage)()) return *stop;
      return mark_known_good();
    }();
    // Versions a fleet is left mixed on, whatever the outcome, are an alarm until a change ends them.
    if (fleet_ && !results_.empty()) {
      std::vector<std::string> services;
      for (const auto& r : results_) services.push_back(r.service);
      fleet_->note_mixed(services);
    }
    return out;
  }

 private:
  using Stop = std::optional<DeployOutcome>;

  DeployOutcome done(ExitCode code, std::string message) {
    out_.exit_code = code;
    out_.message = std::move(message);
    out_.duration_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(clock_.steady_now() - started_).count();
    return out_;
  }
  // Closes every deployment row with `status`, audits `audit_kind` per service, and ends the deploy.
  DeployOutcome end(store::DeploymentStatus status, const std::string& reason, const std::string& audit_kind,
                    ExitCode code, std::string message) {
    run_.finish(results_, status, reason);
    for (auto& x : results_) run_.audit(audit_kind, x.service, {{"reason", reason}});
    out_.services = results_;
    return done(code, std::move(message));
  }
  void emit(std::string_view kind, const ServiceResult& r, std::string outcome,
            std::vector<std::string> reasons = {}, std::string trigger = {}, int weight = -1) {
    tell(hooks_, clock_, started_, kind, env_.name, r, request_.actor, std::move(outcome), std::move(reasons),
         std::move(trigger), weight);
  }

  Stop choose_services();
  Stop resolve_artifacts();
  Stop check_secrets();
  Stop pass_gate();
  Stop record_deployments();
  Stop rehearse_rollbacks();
  Stop start_candidates();
  Stop shift_traffic();
  Stop roll_out_batches();
  void note_approval_to_deployed();
  // An error once someone asked to abort this deploy (pipeline/abort.h); remembers the request.
  Status check_abort();
  // Waits `interval`, looking for an abort request every kAbortPoll.
  Status wait_for_abort(config::Millis interval);
  DeployOutcome hold_at(int weight, const std::string& reason);
  Stop promote_and_verify();
  DeployOutcome mark_known_good();

  const config::Config& config_;
  const config::EnvironmentConfig& env_;
  store::Store& store_;
  targets::Target& target_;
  const DeployRequest& request_;
  const DeployHooks& hooks_;
  Clock& clock_;
  SteadyTime started_;
  Run run_;
  DeployOutcome out_;
  std::vector<ServiceResult> results_;
  std::map<std::string, std::string> slot_urls_;  // service -> its candidate slot's direct URL
  std::optional<SystemTime> last_approval_;
  std::optional<FleetRollout> fleet_;  // target "ssh": what each host serves, and the batches' progress
  std::optional<store::AbortRequest> abort_;  // the abort request acted on, once one was seen
};

// 1. Which services, and what serves each now: without a serving release nothing could be rolled back
// to, so only --first may go on.
std::optional<DeployOutcome> Deployer::choose_services() {
  std::vector<std::string> services =
      request_.services.empty() ? config_.services_of(env_) : request_.services;
  for (const auto& s : services)
    if (!env_.serves(s))
      return done(kExitUsage, "environment '" + env_.name + "' does not serve service '" + s + "'");
  std::map<std::string, targets::SlotInfo> serving;
  if (auto* fleet = target_.fleet()) {
    fleet_.emplace(config_, env_, *fleet, run_, hooks_, clock_);
    if (auto s = fleet_->survey(services); !s.ok())
      return done(kExitFailed, s.error().context("reading what " + env_.name + "'s hosts serve").message);
    for (const auto& service : services)
      if (auto slot = fleet_->serving(service); !slot.digest.empty()) serving[service] = slot;
  } else {
    auto slots = serving_slots(target_);
    if (!slots)
      return done(kExitFailed, slots.error().context("reading what " + env_.name + " serves").message);
    serving = std::move(*slots);
  }
  for (const auto& service : services) {
    ServiceResult r;
    r.service = service;
    if (auto it = serving.find(service); it != serving.end()) {
      r.from_digest = it->second.digest;
      r.from_version = it->second.version;
    }
    if (r.from_digest.empty() && !request_.first)
      return done(kExitGateRejected,
                  "nothing serves " + env_.name + "/" + service +
                      ", so this release could not be rolled back; pass --first for a first deploy");
    if (auto held = find_held(store_, env_.name, service); held && *held)
      return done(kExitGateRejected, env_.name + "/" + service + " is held: " + (*held)->deployment.version +
                                         " takes " + std::to_string((*held)->weight) +
                                         "% of its traffic; first run `villager promote " + env_.name +
                                         "` or `villager rollback " + env_.name + "`");
    results_.push_back(r);
  }
  return std::nullopt;
}

// 2. The artifacts: packaged when not named, and every one still the bytes that were packaged (and
// approved); so is what a rollback would return to.
std::optional<DeployOutcome> Deployer::resolve_artifacts() {
  std::vector<std::string> to_package;
  for (const auto& r : results_)
    if (!request_.artifacts.count(r.service)) to_package.push_back(r.service);
  std::map<std::string, std::pair<Digest, std::string>> artifacts;  // service -> (digest, version)
  if (!to_package.empty()) {
    run_.say("packaging " + join(to_package, ", "));
    std::vector<artifact::Finding> findings;
    auto packed = package_services(config_, to_package, &findings);
    if (!packed) {
      for (const auto& f : findings)
        run_.say("  " + f.file + ":" + std::to_string(f.line) + ":" + std::to_string(f.column) + ": " +
                 f.rule + " " + f.masked);
      return done(packed.error().code == Code::kPermissionDenied ? kExitGateRejected : kExitFailed,
                  packed.error().message);
    }
    for (const auto& p : *packed) {
      artifacts[p.service] = {p.result.digest, p.version};
      (void)store::upsert_release(store_,
                                  {p.service, p.version, p.result.digest.full(), p.result.manifest.git_commit,
                                   p.result.manifest.git_dirty, 0, p.commit_time});
    }
  }
  const auto artifacts_dir = config_.state_dir() / "artifacts";
  for (const auto& [service, digest] : request_.artifacts) {
    auto manifest = artifact::read_manifest(artifacts_dir, digest);
    if (!manifest) return done(kExitFailed, manifest.error().context("artifact " + digest.full()).message);
    if (manifest->service != service)
      return done(kExitUsage, "artifact " + digest.short_form() + " was packaged for service '" +
                                  manifest->service + "', not '" + service + "'");
    artifacts[service] = {digest, manifest->version};
  }
  for (const auto& [service, dv] : artifacts)
    if (auto s = artifact::verify_artifact(artifacts_dir, dv.first); !s.ok())
      return done(s.error().code == Code::kConflict ? kExitGateRejected : kExitFailed,
                  s.error().context("verifying " + service + " " + dv.first.short_form()).message);
  for (auto& r : results_) {
    // ServiceResult still carries the digest as text: the Target interface and the store rows take it so.
    r.digest = artifacts[r.service].first.full();
    r.version = artifacts[r.service].second;
    // A fleet with hosts left behind (unreachable during an earlier rollout) is brought up to date.
    if (r.from_digest == r.digest && (!fleet_ || fleet_->everywhere(r.service, r.digest)))
      return done(kExitFailed, env_.name + "/" + r.service + " already serves " + r.version + " (" +
                                   short_digest(r.digest) + ")");
    if (!r.from_digest.empty())
      if (auto s = artifact::verify_artifact(artifacts_dir, r.from_digest); !s.ok())
        return done(kExitGateRejected, "cannot roll " + env_.name + "/" + r.service +
                                           " back: the serving release's artifact " +
                                           short_digest(r.from_digest) + " is unusable (" +
                                           s.error().message + "); refusing to deploy");
  }
  return std::nullopt;
}

// 3. Every secret the services need must exist, and the release must fit the target, before anything
// starts.
std::optional<DeployOutcome> Deployer::check_secrets() {
  std::vector<config::ServiceConfig> needed;
  for (const auto& r : results_) needed.push_back(*config_.service(r.service));
  if (auto s = secrets::check_required_secrets(config_.state_dir(), env_.name, needed); !s.ok())
    return done(kExitFailed, s.error().message);
  // The release fits the target (Lambda's size limits): refused here, before the gate or any change.
  for (const auto& r : results_)
    if (auto s = target_.check_release(r.service, r.digest); !s.ok())
      return done(kExitFailed, s.error().message + "; nothing was changed");
  return std::nullopt;
}

// 4. The gate: signed approvals for exactly these bytes and this environment, and monitoring in place.
std::optional<DeployOutcome> Deployer::pass_gate() {
  if (env_.requires_roles.empty()) {
    if (request_.override_gate)
      return done(kExitUsage, "environment '" + env_.name + "' has no gate to override");
    return std::nullopt;
  }
  if (auto s = gate::check_monitoring_coverage(config_, env_.name); !s.ok())
    return done(kExitGateRejected, s.error().message);
  std::vector<gate::GateArtifact> arts;
  for (const auto& r : results_) {
    auto digest = Digest::parse(r.digest);
    if (!digest) return done(kExitUsage, digest.error().context(r.service).message);
    arts.push_back({r.service, std::move(*digest), r.version});
  }
  auto decision = gate::evaluate_gate(config_, env_.name, arts, clock_.now(),
                                      {request_.override_gate, request_.override_reason});
  if (!decision) return done(kExitUsage, decision.error().message);
  out_.gate_json = gate::decision_json(*decision);
  json gate = json::parse(out_.gate_json);
  if (!decision->allowed) {
    for (const auto& r : results_) run_.audit("gate.refused", r.service, gate);
    for (const auto& r : results_)
      emit(notify::kGateRefused, r, "refused", gate_reasons(*decision, r.service));
    return done(kExitGateRejected, "gate refused the deploy to " + env_.name + ":\n" + decision->summary());
  }
  if (decision->overridden) {
    run_.say("break-glass override: " + decision->override_reason);
    for (const auto& r : results_) run_.audit("deploy.override", r.service, gate);
  }
  last_approval_ = decision->last_approval_at;
  run_.record()["gate"] = gate;
  return std::nullopt;
}

// 5. Record the deployments: from here on every outcome closes their rows.
std::optional<DeployOutcome> Deployer::record_deployments() {
  for (auto& r : results_) {
    store::Deployment d;
    d.environment = env_.name;
    d.service = r.service;
    d.kind = store::DeploymentKind::kDeploy;
    d.version = r.version;
    d.digest = r.digest;
    d.from_digest = r.from_digest;
    d.actor = request_.actor;
    d.started_at = unix_millis(clock_.now());
    auto id = store::create_deployment(store_, d);
    if (!id) return done(kExitFailed, id.error().context("recording the deployment").message);
    r.deployment_id = *id;
    run_.audit("deploy.started", r.service,
               {{"version", r.version}, {"digest", r.digest}, {"from", r.from_digest}});
    emit(notify::kDeployStarted, r, "started");
  }
  out_.services = results_;
  return std::nullopt;
}

// 6. Can we roll this back? Rehearse it: the previous release in a spare slot, health-checked and
// smoke-tested, a private route swapped to it and back. The public route is never touched.
std::optional<DeployOutcome> Deployer::rehearse_rollbacks() {
  if (!env_.rehearse || !target_.supports_rehearsal()) return std::nullopt;
  for (auto& r : results_) {
    if (r.from_digest.empty()) continue;
    run_.say("rehearsing a rollback of " + r.service + " to " + r.from_version);
    std::vector<ServiceResult> one{r};
    Status s =
        run_.step(one, step_name(StepKind::kRehearsal, r.service), [&](store::StepDetail& detail) -> Status {
          auto spare = target_.rehearsal_start(r.service, r.from_digest, r.from_version);
          if (!spare) return spare.error();
          if (hooks_.pre_traffic_smoke) {
            store::StepDetail smoke_detail;  // the rehearsal records its swap; the smoke report is not kept
            Status smoked =
                hooks_.pre_traffic_smoke(r.service, target_.slot_url(*spare), r.from_version, smoke_detail);
            if (!smoked.ok()) {
              (void)target_.rehearsal_finish(r.service, r.from_digest, true);
              return smoked.error().context("smoke of the previous release");
            }
          }
          auto swap_ms = target_.rehearsal_finish(r.service, r.from_digest);
          if (!swap_ms) return swap_ms.error();
          detail.swap_ms = *swap_ms;
          detail.previous = r.from_digest;
          run_.say("  rehearsal passed: private route swap in " + std::to_string(*swap_ms) + " ms");
          return Ok();
        });
    if (!s.ok()) {
      run_.finish(results_, store::DeploymentStatus::kFailed,
                  "rollback rehearsal failed: " + s.error().message);
      for (auto& x : results_) {
        run_.audit("deploy.refused", x.service, {{"reason", "rollback rehearsal failed"}});
        emit(notify::kDeployFailed, x, "refused", {"rollback rehearsal failed: " + s.error().message});
      }
      out_.services = results_;
      return done(kExitGateRejected,
                  "rollback rehearsal of " + r.service +
                      " failed, so this release could not be rolled back: " + s.error().message);
    }
  }
  return std::nullopt;
}

// 7. Start the candidates and smoke-test each one itself; no traffic moves yet.
std::optional<DeployOutcome> Deployer::start_candidates() {
  for (auto& r : results_) {
    run_.say("starting " + r.service + " " + r.version + " (" + short_digest(r.digest) + ")");
    std::string slot_url;
    Status s = run_.step(results_, step_name(StepKind::kStartCandidate, r.service),
                         [&](store::StepDetail&) -> Status {
                           auto slot = target_.start_candidate(r.service, r.digest, r.version);
                           if (!slot) return slot.error();
                           slot_url = target_.slot_url(*slot);
                           slot_urls_[r.service] = slot_url;
                           run_.say("  " + r.service + " healthy on " + slot_url);
                           return Ok();
                         });
    if (s.ok() && hooks_.pre_traffic_smoke) {
      run_.say("smoke-testing the " + r.service + " candidate");
      s = run_.step(results_, step_name(StepKind::kPreTrafficSmoke, r.service),
                    [&](store::StepDetail& detail) -> Status {
                      return hooks_.pre_traffic_smoke(r.service, slot_url, r.version, detail);
                    });
      if (!s.ok()) emit(notify::kSmokeFailed, r, "blocked", {s.error().message});
    } else if (!s.ok()) {
      emit(notify::kDeployFailed, r, "failed", {s.error().message});
    }
    if (!s.ok()) {
      restore_previous(target_, results_, run_);
      return end(store::DeploymentStatus::kFailed, s.error().message, "deploy.failed", kExitFailed,
                 s.error().message + "; no traffic was moved");
    }
  }
  return std::nullopt;
}

// 8. Shift traffic by the environment's strategy, judging the canary at each weight under 100%. An
// abort request seen before a step or while it waits ends it like a failed canary.
std::optional<DeployOutcome> Deployer::shift_traffic() {
  std::vector<int> steps = env_.strategy == config::Strategy::kCanary ? env_.steps : std::vector<int>{100};
  const std::function<Status()> aborted = [this] { return check_abort(); };
  for (int w : steps) {
    std::string held;  // set when a canary check holds this weight (on_inconclusive = "hold")
    store::StepDetail shift;
    shift.weight = w;
    std::map<std::string, store::StepDetail> judged;  // each service's own verdict, on its own row
    Status s = run_.step(
        results_, step_name(StepKind::kShift, std::to_string(w)),
        [&](store::StepDetail&) -> Status {
          VILLAGER_RETURN_IF_ERROR(check_abort());
          for (const auto& r : results_) {
            std::map<std::string, int> weights = {{r.digest, w}};
            if (!r.from_digest.empty() && w < 100) weights[r.from_digest] = 100 - w;
            VILLAGER_RETURN_IF_ERROR(target_.set_weights(r.service, weights));
          }
          run_.say("traffic at " + std::to_string(w) + "%");
          if (w < 100) {
            VILLAGER_RETURN_IF_ERROR(wait_for_abort(env_.step_interval));
            if (hooks_.canary_check)
              for (const auto& r : results_) {
                // A hold is not a failure: the other services are still judged, and any fail wins.
                Status c = hooks_.canary_check(r.service, r.digest, slot_urls_[r.service], w, aborted,
                                               judged[r.service]);
                if (!c.ok() && is_canary_hold(c.error()))
                  held = c.error().message;
                else
                  VILLAGER_RETURN_IF_ERROR(c);
              }
            if (held.empty())
              for (const auto& r : results_) emit(notify::kCanaryStep, r, "passed", {}, {}, w);
          }
          return Ok();
        },
        std::move(shift), &judged);
    if (s.ok() && !held.empty()) return hold_at(w, held);
    if (!s.ok()) {
      if (abort_)
        run_.record()["aborted_by"] = {
            {"actor", abort_->actor}, {"reason", abort_->reason}, {"requested_at_ms", abort_->requested_at}};
      restore_previous(target_, results_, run_);
      run_.finish(results_, store::DeploymentStatus::kRolledBack, s.error().message);
      for (auto& x : results_) {
        json data = {{"reason", s.error().message}, {"weight", w}};
        if (abort_) data["aborted_by"] = abort_->actor;
        run_.audit("deploy.rolled_back", x.service, data);
        if (abort_) (void)store::mark_abort_handled(store_, x.deployment_id);
      }
      for (auto& x : results_) emit(notify::kCanaryStep, x, "failed", {s.error().message}, {}, w);
      for (auto& x : results_)
        emit(notify::kRolledBack, x, "rolled_back", {},
             "canary at " + std::to_string(w) + "%: " + s.error().message);
      out_.services = results_;
      if (abort_)
        return done(kExitRolledBack,
                    "canary at " + std::to_string(w) + "% " + s.error().message + "; rolled back");
      return done(kExitRolledBack,
                  "canary at " + std::to_string(w) + "% failed: " + s.error().message + "; rolled back");
    }
  }
  note_approval_to_deployed();
  return std::nullopt;
}

Status Deployer::check_abort() {
  if (!abort_) {
    std::vector<int64_t> ids;
    for (const auto& r : results_) ids.push_back(r.deployment_id);
    auto pending = store::pending_abort(store_, ids);
    if (!pending) {
      run_.say("could not read abort requests: " + pending.error().message);
      return Ok();  // an unreadable request must not fail a canary that is passing
    }
    if (!*pending) return Ok();
    abort_ = **pending;
    run_.say("abort requested by " + abort_->actor + (abort_->reason.empty() ? "" : ": " + abort_->reason));
  }
  return FailedPrecondition(abort_reason(*abort_));
}

Status Deployer::wait_for_abort(config::Millis interval) {
  auto end = clock_.steady_now() + interval;
  for (;;) {
    VILLAGER_RETURN_IF_ERROR(check_abort());
    auto left = std::chrono::duration_cast<config::Millis>(end - clock_.steady_now());
    if (left.count() <= 0) return Ok();
    clock_.sleep_for(std::min<config::Millis>(left, kAbortPoll));
  }
}

// Approval to deployed: the last required approval to 100% traffic.
void Deployer::note_approval_to_deployed() {
  if (!last_approval_) return;
  out_.approval_to_deployed_ms = unix_millis(clock_.now()) - unix_millis(*last_approval_);
  run_.record()["approval_to_deployed_ms"] = out_.approval_to_deployed_ms;
  run_.say("approval to deployed: " +
           format_duration(std::chrono::milliseconds(out_.approval_to_deployed_ms)));
}

// 7-8 on a fleet: batch by batch, each host starts, smoke-tests and switches to the candidate, and the
// batch bakes. A failed batch halts the rollout and every host it touched is already back on its previous
// release (verified) when this returns: rolled back (4) once any route had moved, else failed (1).
std::optional<DeployOutcome> Deployer::roll_out_batches() {
  for (const auto& r : results_)
    run_.say("rolling out " + r.service + " " + r.version + " (" + short_digest(r.digest) + ") to " +
             std::to_string(fleet_->hosts().size()) + " hosts");
  Status s = fleet_->roll_out(results_);
  if (s.ok()) {
    note_approval_to_deployed();
    return std::nullopt;
  }
  bool routed = std::any_of(fleet_->hosts().begin(), fleet_->hosts().end(),
                            [](const FleetHost& h) { return h.routed; });
  run_.record()["fleet"] = fleet_->hosts_json();
  const std::string reason = s.error().message;
  if (!routed) {
    for (auto& r : results_) emit(notify::kDeployFailed, r, "failed", {reason});
    return end(store::DeploymentStatus::kFailed, reason, "deploy.failed", kExitFailed,
               reason + "; no host's traffic moved");
  }
  DeployOutcome o =
      end(store::DeploymentStatus::kRolledBack, reason, "deploy.rolled_back", kExitRolledBack, reason);
  for (auto& x : results_) emit(notify::kRolledBack, x, "rolled_back", {}, reason);
  return o;
}

// 8b. An inconclusive step held at its deadline: traffic stays split, both releases keep serving, and the
// deployment row stays running with a `hold` step until `villager promote` or `villager rollback` ends it.
DeployOutcome Deployer::hold_at(int weight, const std::string& reason) {
  (void)run_.step(results_, step_name(StepKind::kHold, std::to_string(weight)), [&](store::StepDetail& d) {
    d.weight = weight;
    d.reason = reason;
    return Ok();
  });
  for (auto& r : results_) {
    r.status = "held";
    run_.audit("deploy.held", r.service, {{"reason", reason}, {"weight", weight}});
    emit(notify::kCanaryStep, r, "held", {reason}, {}, weight);
  }
  out_.services = results_;
  return done(kExitHeld, "canary " + reason + "; traffic stays at " + std::to_string(weight) +
                             "% on the candidate, both releases keep serving. Finish it: `villager promote " +
                             env_.name + "` (candidate to 100%) or `villager rollback " + env_.name +
                             "` (back to the serving release)");
}

// 9. Promote (the old release stays warm for an instant rollback), smoke-test the public endpoints and
// watch; any failure routes back to the previous release and smoke-tests what was restored.
std::optional<DeployOutcome> Deployer::promote_and_verify() {
  // A fleet's hosts were promoted batch by batch (promoting again would stop their warm release).
  Status checked = run_.step(results_, step_name(StepKind::kPromote), [&](store::StepDetail&) -> Status {
    if (!fleet_)
      for (const auto& r : results_) VILLAGER_RETURN_IF_ERROR(target_.promote(r.service, r.digest));
    for (const auto& r : results_) VILLAGER_RETURN_IF_ERROR(target_.verify_promoted(r.service, r.digest));
    return Ok();
  });
  if (checked.ok())
    for (const auto& r : results_) emit(notify::kDeployed, r, "succeeded");
  if (checked.ok() && hooks_.post_traffic_smoke) {
    run_.say("smoke-testing the public endpoints");
    checked = run_.step(results_, step_name(StepKind::kPostTrafficSmoke), [&](store::StepDetail& detail) {
      return hooks_.post_traffic_smoke(service_names(results_), results_.front().version, detail);
    });
  }
  if (checked.ok() && hooks_.watch) {
    run_.say("watching for " + format_duration(env_.watch));
    checked = run_.step(results_, step_name(StepKind::kWatch), hooks_.watch);
    if (checked.ok())
      for (const auto& r : results_) emit(notify::kWatchPassed, r, "passed");
  }
  if (checked.ok()) return std::nullopt;
  run_.say("rolling back: " + checked.error().message);
  std::string reverted;
  if (fleet_) {
    Status s =
        run_.step(results_, step_name(StepKind::kFleetRevert), [&](store::StepDetail& detail) -> Status {
          auto r = fleet_->revert(results_);
          detail.hosts = fleet_->hosts_json();
          if (!r) return r.error();
          reverted = "; " + *r;
          return Ok();
        });
    if (!s.ok()) reverted = "; " + s.error().message;
  } else {
    restore_previous(target_, results_, run_, /*promoted=*/true);
  }
  // The restored release is smoke-tested: a rollback that lands on something broken must say so.
  std::string after = reverted + "; rolled back";
  if (hooks_.post_traffic_smoke && !results_.front().from_version.empty()) {
    run_.say("smoke-testing the restored release");
    Status restored =
        run_.step(results_, step_name(StepKind::kPostRollbackSmoke), [&](store::StepDetail& detail) {
          return hooks_.post_traffic_smoke(service_names(results_), results_.front().from_version, detail);
        });
    after += restored.ok() ? " (the restored release passes the smoke suite)"
                           : "; the restored release FAILS the smoke suite: " + restored.error().message;
  }
  const std::string reason = checked.error().message;
  DeployOutcome o = end(store::DeploymentStatus::kRolledBack, reason, "deploy.rolled_back", kExitRolledBack,
                        reason + after);
  for (auto& x : results_) emit(notify::kRolledBack, x, "rolled_back", {}, reason);
  return o;
}

// 10. Known-good: this release is now what a later rollback returns to.
DeployOutcome Deployer::mark_known_good() {
  for (auto& r : results_) {
    (void)store::mark_known_good(store_, {0, env_.name, r.service, r.digest, r.version, 0});
    run_.audit("deploy.succeeded", r.service, {{"version", r.version}, {"digest", r.digest}});
  }
  run_.finish(results_, store::DeploymentStatus::kSucceeded, "deployed");
  out_.services = results_;
  return done(kExitOk, "deployed");
}

// A rollback's traffic move for one service (`one`): the previous release cold-started first when it is
// not warm, then the route swap, timed from the call; the release rolled back from is stopped, not kept
// warm, since it is what went wrong.
Status swap_back(targets::Target& target, Run& run, std::vector<ServiceResult>& one, bool warm, Clock& clock,
                 int64_t& swap_ms) {
  const ServiceResult& r = one.front();
  auto t0 = clock.steady_now();
  Status s = Ok();
  if (!warm) {
    run.say("starting " + r.service + " " + r.version + " (cold rollback)");
    s = run.step(one, step_name(StepKind::kStartPrevious), [&](store::StepDetail&) -> Status {
      auto slot = target.start_candidate(r.service, r.digest, r.version);
      if (!slot) return slot.error();
      return Ok();
    });
  }
  if (s.ok()) {
    s = run.step(one, step_name(StepKind::kRouteSwap), [&](store::StepDetail& d) -> Status {
      d.warm = warm;
      VILLAGER_RETURN_IF_ERROR(target.set_weights(r.service, {{r.digest, 100}}));
      swap_ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock.steady_now() - t0).count();
      return target.promote(r.service, r.digest);
    });
  }
  if (s.ok() && !r.from_digest.empty())
    if (auto stopped = target.stop(r.service, r.from_digest); !stopped.ok())
      run.say("could not stop " + r.service + " " + short_digest(r.from_digest) + ": " +
              stopped.error().message);
  return s;
}

}  // namespace

DeployOutcome deploy(const config::Config& config, store::Store& store, targets::Target& target,
                     const DeployRequest& request, const DeployHooks& hooks, Clock& clock,
                     const ProgressFn& progress) {
  const auto* env = config.environment(request.environment);
  if (!env) {
    DeployOutcome out;
    out.exit_code = kExitUsage;
    out.message = "no environment '" + request.environment + "' in " + config.file.string();
    return out;
  }
  return Deployer(config, *env, store, target, request, hooks, clock, progress).run();
}

namespace {

// The rollback's record of one service, opened before anything moves: from the release serving now
// (digest, version; "" when none) to `to`.
Result<ServiceResult> record_rollback(store::Store& store, Clock& clock, const std::string& environment,
                                      const std::string& service, const store::KnownGood& to,
                                      const std::pair<std::string, std::string>& from,
                                      const std::string& actor) {
  ServiceResult r;
  r.service = service;
  r.digest = to.digest;
  r.version = to.version;
  r.from_digest = from.first;
  r.from_version = from.second;
  store::Deployment d;
  d.environment = environment;
  d.service = service;
  d.kind = store::DeploymentKind::kRollback;
  d.version = r.version;
  d.digest = r.digest;
  d.from_digest = r.from_digest;
  d.actor = actor;
  d.started_at = unix_millis(clock.now());
  auto id = store::create_deployment(store, d);
  if (!id) return id.error().context("recording the rollback");
  r.deployment_id = *id;
  return r;
}

}  // namespace

RollbackOutcome rollback(const config::Config& config, store::Store& store, targets::Target& target,
                         const RollbackRequest& request, const DeployHooks& hooks, Clock& clock,
                         const ProgressFn& progress) {
  RollbackOutcome out;
  auto started = clock.steady_now();
  std::optional<FleetRollout> fleet;
  std::vector<std::string> services;
  auto done = [&](ExitCode code, std::string message) {
    if (fleet) fleet->note_mixed(services);
    out.exit_code = code;
    out.message = std::move(message);
    out.duration_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(clock.steady_now() - started).count();
    return out;
  };
  const auto* env = config.environment(request.environment);
  if (!env)
    return done(kExitUsage, "no environment '" + request.environment + "' in " + config.file.string());
  Run run(store, clock, progress, env->name, request.actor);
  services = request.services.empty() ? config.services_of(*env) : request.services;

  // A fleet is read host by host: each host goes back on its own terms (fleet_rollout.h, return_to).
  std::vector<targets::SlotInfo> slots;
  if (auto* f = target.fleet()) {
    fleet.emplace(config, *env, *f, run, hooks, clock);
    (void)fleet->survey(services);  // hosts it cannot reach are named when the rollback ends
  } else {
    auto got = target.slots();
    if (!got) return done(kExitFailed, got.error().context("reading what " + env->name + " runs").message);
    slots = std::move(*got);
  }

  for (const auto& service : services) {
    std::string current, current_version;
    std::map<std::string, targets::SlotInfo> running;
    for (const auto& s : slots) {
      if (s.service != service) continue;
      running[s.digest] = s;
      if (s.role == targets::SlotRole::kServing) {
        current = s.digest;
        current_version = s.version;
      }
    }
    if (fleet) {
      auto serving = fleet->serving(service);
      current = serving.digest;
      current_version = serving.version;
    }
    auto to = rollback_target(store, env->name, service, current, request.to_version);
    if (!to) return done(kExitFailed, to.error().context(env->name + "/" + service).message);

    auto r =
        record_rollback(store, clock, env->name, service, *to, {current, current_version}, request.actor);
    if (!r) return done(kExitFailed, r.error().message);
    std::vector<ServiceResult> one{*r};
    run.audit("rollback.started", service,
              {{"to", r->digest}, {"from", current}, {"reason", request.reason}});

    bool warm = running.count(r->digest) > 0;
    int64_t swap_ms = -1;  // set once the route moved
    Status s = Ok();
    if (fleet)
      s = run.step(one, step_name(StepKind::kRouteSwap), [&](store::StepDetail& detail) -> Status {
        Status moved = fleet->return_to(*r, swap_ms, warm);
        detail.warm = warm;
        detail.hosts = fleet->hosts_json();
        return moved;
      });
    else
      s = swap_back(target, run, one, warm, clock, swap_ms);
    if (swap_ms >= 0) out.swap_ms[service] = swap_ms;
    out.warm[service] = warm;
    if (!s.ok()) {
      run.finish(one, store::DeploymentStatus::kFailed, s.error().message);
      run.audit("rollback.failed", service, {{"reason", s.error().message}});
      tell(hooks, clock, started, notify::kRollbackFailed, env->name, one[0], request.actor, "failed",
           {s.error().message}, request.reason);
      // Services already swapped back stay swapped; their records are closed.
      run.finish(out.services, store::DeploymentStatus::kSucceeded, request.reason);
      out.services.push_back(one[0]);
      return done(kExitFailed, "rollback of " + env->name + "/" + service + " failed: " + s.error().message);
    }
    run.say("rolled back " + service + " to " + r->version + " in " + std::to_string(out.swap_ms[service]) +
            " ms" + (warm ? " (warm: route swap)" : " (cold start)"));
    out.services.push_back(one[0]);
  }
  // The restored release is smoke-tested before the rollback counts as done.
  Status smoked = finish_rollback(store, env->name, out.services, out.swap_ms, hooks, clock, started,
                                  request.actor, request.reason, progress);
  if (!smoked.ok())
    return done(kExitFailed,
                "rolled back, but the smoke suite fails on the restored release: " + smoked.error().message);
  return done(kExitOk, "rolled back");
}

Status finish_rollback(store::Store& store, const std::string& environment,
                       std::vector<ServiceResult>& restored, const std::map<std::string, int64_t>& swap_ms,
                       const DeployHooks& hooks, Clock& clock, SteadyTime started, const std::string& actor,
                       const std::string& reason, const ProgressFn& progress) {
  Run run(store, clock, progress, environment, actor);
  Status smoked = Ok();
  if (hooks.post_traffic_smoke && !restored.empty()) {
    run.say("smoke-testing the restored release");
    smoked = run.step(restored, step_name(StepKind::kPostRollbackSmoke), [&](store::StepDetail& d) {
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
