#pragma once
// Deploy and rollback: the pipeline's ordered stages, driving a Target and recording every step in the
// store and the audit log. deploy.cc reads as the deploy's table of contents.

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/error.h"
#include "base/hash.h"
#include "config/config.h"
#include "notify/event.h"
#include "pipeline/outcome.h"
#include "store/step_detail.h"
#include "store/store.h"
#include "targets/target.h"

namespace villager::pipeline {

// Checks that plug into deploy. Each returns Ok to continue, or an error that stops the deploy (before
// traffic) or rolls it back (after). Unset hooks pass. A hook fills its part of `detail` (the smoke
// report, the canary verdict, the alarms; store/step_detail.h), which is stored with the step whether it
// passes or fails: a failed check's figures are what the review document shows.
struct DeployHooks {
  // The candidate slot of `service`, reachable at `slot_url`, before any traffic moves.
  std::function<Status(const std::string& service, const std::string& slot_url, const std::string& version,
                       store::StepDetail& detail)>
      pre_traffic_smoke;
  // At each canary weight, after the step's interval; `slot_url` reaches the candidate slot directly
  // (synthetic canary traffic). An error made by canary_hold() (pipeline/held.h) holds the deploy at
  // this weight instead of rolling it back. A check that waits calls `aborted` between its waits and
  // returns its error at once: someone asked to abort the deploy (pipeline/abort.h).
  std::function<Status(const std::string& service, const std::string& digest, const std::string& slot_url,
                       int weight, const std::function<Status()>& aborted, store::StepDetail& detail)>
      canary_check;
  // After every deployed service reached 100%, against their public endpoints.
  std::function<Status(const std::vector<std::string>& services, const std::string& version,
                       store::StepDetail& detail)>
      post_traffic_smoke;
  // The watch window after promotion; an error means "roll back".
  std::function<Status(store::StepDetail& detail)> watch;
  // Told of each event as it happens (notify/event.h); must not block.
  std::function<void(const notify::PipelineEvent&)> notify;
};

struct DeployRequest {
  std::string environment;
  std::vector<std::string> services;        // empty: every service the environment serves
  std::map<std::string, Digest> artifacts;  // service -> its artifact (missing ones are packaged)
  std::string actor;
  bool first = false;          // allow a first deploy (nothing to roll back to)
  bool override_gate = false;  // break-glass: needs a reason and an approval by the override role
  std::string override_reason;
};

struct ServiceResult {
  std::string service;
  std::string version;
  std::string digest;
  std::string from_digest;
  std::string from_version;
  int64_t deployment_id = 0;
  std::string status;  // succeeded | failed | rolled_back
};

// The release channel's event for one service's result, now: kind, environment, release, actor and
// outcome filled; callers add what they measured (duration, reasons, trigger, weight).
notify::PipelineEvent service_event(std::string_view kind, const std::string& env, const ServiceResult& r,
                                    const std::string& actor, std::string outcome, Clock& clock);

struct DeployOutcome {
  ExitCode exit_code = kExitOk;  // pipeline/outcome.h
  std::string message;
  std::string gate_json;                 // the gate's decision, when the environment has a gate
  int64_t approval_to_deployed_ms = -1;  // last required approval to 100% traffic; -1 when none
  std::vector<ServiceResult> services;
  int64_t duration_ms = 0;
};

using ProgressFn = std::function<void(const std::string& line)>;

DeployOutcome deploy(const config::Config& config, store::Store& store, targets::Target& target,
                     const DeployRequest& request, const DeployHooks& hooks, Clock& clock,
                     const ProgressFn& progress);

struct RollbackRequest {
  std::string environment;
  std::vector<std::string> services;  // empty: every service the environment serves
  std::string to_version;             // empty: the previous known-good release
  std::string actor;
  std::string reason = "manual";
};

struct RollbackOutcome {
  ExitCode exit_code = kExitOk;
  std::string message;
  std::vector<ServiceResult> services;
  std::map<std::string, int64_t> swap_ms;  // service -> time from the call to the route swap confirmed
  std::map<std::string, bool> warm;        // service -> previous release was warm (route swap only)
  int64_t duration_ms = 0;
};

RollbackOutcome rollback(const config::Config& config, store::Store& store, targets::Target& target,
                         const RollbackRequest& request, const DeployHooks& hooks, Clock& clock,
                         const ProgressFn& progress);

// What a rollback does once traffic is back on the restored releases (`restored`: one running rollback
// row each; `swap_ms` per service): smoke-tests them, marks them known-good when they pass, closes the
// rows, audits, and tells hooks.notify (timed from `started`, `reason` as the trigger). rollback() ends
// with it, and so does the agent's own rollback after deploy --no-wait. Returns the smoke suite's outcome.
Status finish_rollback(store::Store& store, const std::string& environment,
                       std::vector<ServiceResult>& restored, const std::map<std::string, int64_t>& swap_ms,
                       const DeployHooks& hooks, Clock& clock, SteadyTime started, const std::string& actor,
                       const std::string& reason, const ProgressFn& progress);

}  // namespace villager::pipeline
