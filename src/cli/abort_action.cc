#include "cli/abort_action.h"

#include <thread>

#include "base/clock.h"
#include "base/hash.h"
#include "cli/held_action.h"
#include "pipeline/abort.h"
#include "store/env_lock.h"
#include "store/store.h"

namespace villager::cli {

namespace {

int64_t millis_since(SteadyTime start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(real_clock().steady_now() - start).count();
}

}  // namespace

Result<AbortCanaryOutcome> abort_canary(const config::Config& config, const AbortCanaryAction& request,
                                        const pipeline::ProgressFn& progress) {
  auto say = [&](const std::string& line) {
    if (progress) progress(line);
  };
  auto started = real_clock().steady_now();
  const config::EnvironmentConfig* env = config.environment(request.environment);
  if (!env) return InvalidArgument("no environment '" + request.environment + "' in " + config.file.string());
  std::vector<std::string> services = request.services.empty() ? config.services_of(*env) : request.services;
  for (const auto& s : services)
    if (!env->serves(s))
      return InvalidArgument("environment '" + env->name + "' does not serve service '" + s + "'");

  AbortCanaryOutcome out;
  if (environment_held(config, env->name, services)) {
    say("the canary is held: routing it back");
    auto o = finish_held(config, {env->name, request.services, false, request.actor}, progress);
    if (!o) return o.error();
    out.held = true;
    out.exit_code = o->exit_code;
    out.message = o->exit_code == 0 ? "held canary rolled back by " + request.actor : o->message;
    out.services = o->services;
    out.duration_ms = millis_since(started);
    return out;
  }
  if (env->target == config::TargetKind::kSsh)
    return InvalidArgument(
        "aborting a fleet's rollout is not built (target \"ssh\" switches in batches; "
        "docs/targets/ssh.md): wait for it, then `villager rollback " +
        env->name + "`");

  auto st = store::Store::open(config.state_dir());
  if (!st) return st.error();
  // The deploy holds the environment's lock while it runs. A lock that is free means its process is
  // gone (a crash leaves the row running): no one would read the request, so none is recorded.
  {
    auto lock = store::lock_environment(config.state_dir(), env->name, "abort by " + request.actor);
    if (lock) {
      bool any = false;
      for (const auto& s : services)
        if (auto r = pipeline::find_running(**st, env->name, s); r && *r) any = true;
      out.exit_code = any ? pipeline::kExitFailed : pipeline::kExitUsage;
      out.message = any ? "no deploy process is running in " + env->name +
                              " (a deploy row is left open by one that died): `villager rollback " +
                              env->name + "` restores the serving release"
                        : "nothing to abort in " + env->name + ": no canary is running or held";
      out.duration_ms = millis_since(started);
      return out;
    }
    if (lock.error().code != Code::kFailedPrecondition) return lock.error();
  }

  auto asked = pipeline::request_canary_abort(**st, {env->name, services, request.actor, request.reason});
  if (!asked && asked.error().code == Code::kNotFound) {
    out.exit_code = pipeline::kExitUsage;
    // The lock's holder is a rollback, a promote, or a deploy that has not reached its canary.
    out.message = "nothing to abort in " + env->name + ": no canary is running (yet) or held";
    out.duration_ms = millis_since(started);
    return out;
  }
  if (!asked) return asked.error();
  for (const auto& d : *asked)
    say("asked the deploy of " + d.service + " " + d.version + " (deployment " + std::to_string(d.id) +
        ") to abort its canary; waiting for it to roll back");

  // The deploy reads the request within kAbortPoll, then restores the serving release.
  auto deadline = real_clock().steady_now() + kAbortWait;
  std::vector<store::Deployment> rows = *asked;
  for (;;) {
    bool running = false;
    for (auto& d : rows) {
      auto now = store::get_deployment(**st, d.id);
      if (!now) return now.error();
      d = *now;
      running |= d.status == store::DeploymentStatus::kRunning;
    }
    if (!running || real_clock().steady_now() >= deadline) break;
    std::this_thread::sleep_for(pipeline::kAbortPoll);
  }
  std::vector<std::string> problems;
  for (const auto& d : rows) {
    std::string status(store::to_string(d.status));
    out.services.push_back({d.service, d.version, d.digest, d.from_digest, "", d.id, status});
    if (d.status == store::DeploymentStatus::kRolledBack) continue;
    if (d.status == store::DeploymentStatus::kRunning)
      problems.push_back("the abort of " + d.service + " is recorded, but its deploy did not act on it in " +
                         std::to_string(kAbortWait.count()) + " s (it still runs)");
    else
      problems.push_back(d.service + " " + d.version + " " + status +
                         " before its deploy saw the abort: `villager rollback " + env->name + "`");
  }
  out.exit_code = problems.empty() ? pipeline::kExitOk : pipeline::kExitFailed;
  out.message = problems.empty() ? "canary aborted by " + request.actor + "; rolled back" : problems.front();
  out.duration_ms = millis_since(started);
  return out;
}

}  // namespace villager::cli
