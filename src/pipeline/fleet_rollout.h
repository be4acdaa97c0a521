#pragma once
// The batched rollout of a fleet (target "ssh"), and the revert Kamal leaves to its users: a batch that
// fails halts the rollout and every host already switched goes back to the release it served before,
// in parallel, each verified serving it again. deploy.cc calls it in place of the one-host stages
// (start candidates, shift traffic) when its target has a fleet(). docs/targets/ssh.md.
//
//   FleetRollout fleet(config, env, *target.fleet(), run, hooks, clock);
//   VILLAGER_RETURN_IF_ERROR(fleet.survey(services));   // what each host serves; who is unreachable
//   Status s = fleet.roll_out(results);                   // batches; on failure already reverted
//   ... later, a failed watch:  fleet.revert(results);

#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/error.h"
#include "config/config.h"
#include "pipeline/deploy.h"
#include "pipeline/run.h"
#include "targets/target.h"

namespace villager::pipeline {

// The alarm a fleet left on more than one release by a change raises (store alarm_events, severity
// warning): firing from the end of that deploy or rollback, resolved by the change that brings every host
// to one release. `villager status` and the dashboard show it.
inline constexpr const char* kFleetMixedAlarm = "fleet_mixed_versions";

// Host indexes of each batch in the fleet's order: `batch` hosts at a time (a percentage of the fleet
// rounds up, at least 1), the last batch what remains.
std::vector<std::vector<size_t>> plan_batches(size_t hosts, const config::HostCount& batch);

// One host of the fleet: what it served before this rollout and what the rollout did to it.
struct FleetHost {
  size_t index = 0;
  std::string name;
  // pending | current (already serves the release) | started | switched | reverted | failed | unreachable
  std::string state = "pending";
  std::map<std::string, targets::SlotInfo> before;   // service -> its serving slot before the rollout
  std::map<std::string, targets::SlotInfo> started;  // service -> the candidate slot started here
  std::string error;                                 // why it failed or cannot be reached
  bool touched = false;                              // a candidate started here: a revert visits it
  bool routed = false;                               // its route moved to the candidate
};

class FleetRollout {
 public:
  FleetRollout(const config::Config& config, const config::EnvironmentConfig& env, targets::Fleet& fleet,
               Run& run, const DeployHooks& hooks, Clock& clock);

  // Reads what every host serves, in parallel. A host that cannot be reached is marked unreachable (and
  // left out); fewer reachable hosts than min_healthy is an error naming each unreachable one.
  Status survey(const std::vector<std::string>& services);
  // What most reachable hosts serve for `service` (an empty slot when none serves it).
  targets::SlotInfo serving(const std::string& service) const;
  // Whether every reachable host already serves `digest` for `service`.
  bool everywhere(const std::string& service, const std::string& digest) const;

  // The batches in order. A batch's hosts start every candidate in parallel, each host's candidates are
  // smoke-tested on that host, then the batch's hosts switch their routes (the previous release stays
  // warm) and the batch bakes: for `bake`, every switched host's agent must report the candidate serving
  // and alive, and its health path must answer through the host's own slot. A failure anywhere halts the
  // rollout, reverts every touched host (revert()), and returns an error naming the host and why.
  Status roll_out(std::vector<ServiceResult>& results);
  // Every touched host back on the release it served before, all hosts in parallel, then each checked
  // serving it. Returns what was done ("reverted web1, web2 to v1.0.0, each verified serving it"), or an
  // error naming every host that could not be put back (unreachable: with what it last ran).
  Result<std::string> revert(const std::vector<ServiceResult>& results);

  // `villager rollback` on a fleet: every reachable host moved to `to.digest` for `to.service` at once,
  // each host on its own terms (a host that has it warm swaps its route; one that does not starts it
  // first; one already serving it is left alone), then each checked serving it. `swap_ms` gets the
  // slowest host's time from the call to its route swap; `warm` whether every host had it warm.
  Status return_to(const ServiceResult& to, int64_t& swap_ms, bool& warm);

  // After a change: reads what every host serves now (an unreachable host counts with what it last
  // served) and raises or resolves kFleetMixedAlarm per service; says so when it fires. Returns, per
  // service left mixed, "v2.0.0 on web1, web2; v1.0.0 on web4 (unreachable)".
  std::map<std::string, std::string> note_mixed(const std::vector<std::string>& services);

  const std::vector<FleetHost>& hosts() const { return hosts_; }
  nlohmann::json hosts_json() const;

 private:
  // min_healthy through the rollout: every host not yet touched whose SSH connection dropped is marked
  // unreachable (named, with what it last served); an error when fewer than min_healthy hosts are left
  // healthy. A host lost this way is brought up to date by a later deploy.
  Status check_min_healthy();
  Status run_batch(const std::vector<ServiceResult>& results, const std::vector<size_t>& batch);
  Status bake(const std::vector<ServiceResult>& results, const std::vector<size_t>& switched);
  // "" when host i serves each of `releases` alive and healthy (and, for its candidates, never restarted
  // since they started); otherwise why not.
  std::string check_host(size_t i, const std::vector<ServiceResult>& results);
  std::string auth_header_line(const config::ServiceConfig& svc);

  const config::Config& config_;
  const config::EnvironmentConfig& env_;
  targets::Fleet& fleet_;
  Run& run_;
  const DeployHooks& hooks_;
  Clock& clock_;
  std::vector<FleetHost> hosts_;
  std::mutex auth_mu_;
  std::map<std::string, std::string> auth_lines_;  // service -> "header: key", resolved once
};

}  // namespace villager::pipeline
