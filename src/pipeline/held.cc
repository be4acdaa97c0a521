#include "pipeline/held.h"

#include <nlohmann/json.hpp>
#include <set>

#include "base/hash.h"
#include "store/step_kinds.h"

namespace villager::pipeline {

namespace {

using json = nlohmann::json;
using store::StepKind;

constexpr std::string_view kHoldPrefix = "held: ";

// One step on the held row, recorded around `body`.
template <class F>
Status record_step(store::Store& store, int64_t id, const std::string& name, F&& body) {
  auto seq = store::add_step(store, id, name);
  store::StepDetail detail;
  Status s = body(detail);
  if (!s.ok()) detail.error = s.error().message;
  if (seq)
    (void)store::finish_step(store, id, *seq,
                             s.ok() ? store::StepStatus::kSucceeded : store::StepStatus::kFailed,
                             detail.to_json().dump(-1, ' ', false, json::error_handler_t::replace));
  return s;
}

void audit(store::Store& store, const std::string& actor, const std::string& kind, const HeldDeploy& h,
           json data) {
  data["digest"] = h.deployment.digest;
  data["held_weight"] = h.weight;
  (void)store::append_audit(
      store, {actor, kind, h.deployment.environment + "/" + h.deployment.service, data.dump()});
}

void tell(const DeployHooks& hooks, Clock& clock, const ServiceResult& r, const std::string& env,
          std::string_view kind, const std::string& actor, std::string outcome, std::string trigger) {
  if (!hooks.notify) return;
  notify::PipelineEvent e = service_event(kind, env, r, actor, std::move(outcome), clock);
  e.trigger = std::move(trigger);
  hooks.notify(e);
}

// The serving release back at 100% and the candidate stopped (a first deploy's route goes down).
Status route_back(targets::Target& target, const HeldDeploy& h) {
  const auto& d = h.deployment;
  std::map<std::string, int> weights;
  if (!d.from_digest.empty()) weights[d.from_digest] = 100;
  VILLAGER_RETURN_IF_ERROR(target.set_weights(d.service, weights));
  return target.stop(d.service, d.digest);
}

// The candidate to 100% and serving; then the public endpoints' smoke suite.
Status promote_candidate(store::Store& store, targets::Target& target, const HeldDeploy& h,
                         const DeployHooks& hooks) {
  const auto& d = h.deployment;
  VILLAGER_RETURN_IF_ERROR(
      record_step(store, d.id, store::step_name(StepKind::kShift, "100"), [&](store::StepDetail&) {
        return target.set_weights(d.service, {{d.digest, 100}});
      }));
  VILLAGER_RETURN_IF_ERROR(
      record_step(store, d.id, store::step_name(StepKind::kPromote),
                  [&](store::StepDetail&) { return target.promote(d.service, d.digest); }));
  if (!hooks.post_traffic_smoke) return Ok();
  // The smoke report is kept with the step, so the held deploy's review lists its checks.
  return record_step(store, d.id, store::step_name(StepKind::kPostTrafficSmoke),
                     [&](store::StepDetail& detail) -> Status {
                       return hooks.post_traffic_smoke({d.service}, d.version, detail);
                     });
}

std::vector<std::string> environment_services(store::Store& store, const std::string& env) {
  store::DeploymentFilter f;
  f.environment = env;
  f.limit = 0;
  std::set<std::string> names;
  if (auto all = store::list_deployments(store, f))
    for (const auto& d : *all) names.insert(d.service);
  return {names.begin(), names.end()};
}

}  // namespace

Error canary_hold(std::string message) {
  return Error{Code::kTimeout, std::string(kHoldPrefix) + message};
}

bool is_canary_hold(const Error& error) {
  return error.code == Code::kTimeout && error.message.starts_with(kHoldPrefix);
}

Result<std::optional<RunningDeploy>> newest_running_deploy(store::Store& store,
                                                           const std::string& environment,
                                                           const std::string& service) {
  auto newest = store::newest_deployment(store, environment, service);
  if (!newest) return newest.error();
  if (!*newest) return std::optional<RunningDeploy>{};
  const auto& d = **newest;
  if (d.kind != store::DeploymentKind::kDeploy || d.status != store::DeploymentStatus::kRunning)
    return std::optional<RunningDeploy>{};
  auto steps = store::list_steps(store, d.id);
  if (!steps) return steps.error();
  return std::optional<RunningDeploy>{RunningDeploy{d, std::move(*steps)}};
}

Result<std::optional<HeldDeploy>> find_held(store::Store& store, const std::string& environment,
                                            const std::string& service) {
  auto running = newest_running_deploy(store, environment, service);
  if (!running) return running.error();
  if (!*running || (*running)->steps.empty()) return std::optional<HeldDeploy>{};
  const store::Deployment& d = (*running)->deployment;
  const auto& last = (*running)->steps.back();
  auto parsed = store::parse_step(last.name);
  if (parsed.kind != StepKind::kHold) return std::optional<HeldDeploy>{};
  HeldDeploy h;
  h.deployment = d;
  h.weight = std::atoi(parsed.arg.c_str());
  h.held_at = last.started_at;
  json detail = json::parse(last.detail, nullptr, false);
  if (detail.is_object()) h.reason = detail.value("reason", "");
  return std::optional<HeldDeploy>{h};
}

DeployOutcome resolve_held(store::Store& store, targets::Target& target, const ResolveHeldRequest& request,
                           const DeployHooks& hooks, Clock& clock, const ProgressFn& progress) {
  DeployOutcome out;
  auto started = clock.steady_now();
  auto say = [&](const std::string& line) {
    if (progress) progress(line);
  };
  auto services =
      request.services.empty() ? environment_services(store, request.environment) : request.services;
  std::vector<std::string> problems;
  for (const auto& service : services) {
    auto held = find_held(store, request.environment, service);
    if (!held) {
      problems.push_back(held.error().context(service).message);
      continue;
    }
    if (!*held) continue;
    const HeldDeploy& h = **held;
    const auto& d = h.deployment;
    ServiceResult r{service, d.version, d.digest, d.from_digest, "", d.id, ""};
    std::string what = request.promote ? "promote" : "rollback";
    say((request.promote ? "promoting " : "rolling back ") + service + " " + d.version + " (held at " +
        std::to_string(h.weight) + "%)");
    Status s = request.promote ? promote_candidate(store, target, h, hooks)
                               : record_step(store, d.id, store::step_name(StepKind::kRouteSwap),
                                             [&](store::StepDetail&) { return route_back(target, h); });
    store::DeploymentStatus status = store::DeploymentStatus::kSucceeded;
    std::string message = "held canary promoted by " + request.actor;
    if (!request.promote) {
      status = s.ok() ? store::DeploymentStatus::kRolledBack : store::DeploymentStatus::kFailed;
      message = "held canary rolled back by " + request.actor;
    } else if (!s.ok()) {
      // A promotion that fails its smoke suite goes back where it came from, like a deploy's would.
      Status back =
          record_step(store, d.id, store::step_name(StepKind::kRouteSwap), [&](store::StepDetail&) -> Status {
            VILLAGER_RETURN_IF_ERROR(route_back(target, h));
            return d.from_digest.empty() ? Ok() : target.promote(service, d.from_digest);
          });
      status = back.ok() ? store::DeploymentStatus::kRolledBack : store::DeploymentStatus::kFailed;
      message = "promotion of the held canary failed (" + s.error().message + ")" +
                (back.ok() ? "; rolled back" : "; rolling back failed too: " + back.error().message);
    }
    if (!s.ok() && !request.promote) message = "rolling back the held canary failed: " + s.error().message;
    if (status == store::DeploymentStatus::kSucceeded)
      (void)store::mark_known_good(store, {0, request.environment, service, d.digest, d.version, 0});
    (void)store::finish_deployment(
        store, d.id, status,
        json{{"message", message}, {"held_weight", h.weight}, {"resolved", what}}.dump());
    r.status = std::string(store::to_string(status));
    audit(store, request.actor, "deploy.held_" + what, h, {{"outcome", r.status}, {"message", message}});
    tell(hooks, clock, r, request.environment,
         status == store::DeploymentStatus::kSucceeded    ? notify::kDeployed
         : status == store::DeploymentStatus::kRolledBack ? notify::kRolledBack
                                                          : notify::kRollbackFailed,
         request.actor, r.status, message);
    say("  " + message);
    if (status != store::DeploymentStatus::kSucceeded && (request.promote || !s.ok()))
      problems.push_back(service + ": " + message);
    out.services.push_back(r);
  }
  out.duration_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock.steady_now() - started).count();
  if (out.services.empty() && problems.empty()) {
    out.exit_code = kExitUsage;
    out.message = "nothing is held in " + request.environment;
  } else if (!problems.empty()) {
    bool rolled = std::all_of(out.services.begin(), out.services.end(),
                              [](const ServiceResult& x) { return x.status == "rolled_back"; });
    out.exit_code = request.promote && rolled && !out.services.empty() ? kExitRolledBack : kExitFailed;
    out.message = problems.front();
  } else {
    out.message = request.promote ? "promoted" : "rolled back";
  }
  return out;
}

}  // namespace villager::pipeline
