#pragma once
// Target: one interface, several engines. A target turns an artifact into a running slot that takes no
// traffic, says how to reach that slot directly (for the smoke suite), shifts traffic weights between
// slots, and moves traffic back. Engines: `local` (the agent on this host), `lambda` (Lambda versions
// behind an alias, lambda_target.h) and `url` (deployed elsewhere: smoke, monitor and load only; every
// change is refused).

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "config/config.h"

namespace villager::targets {

// What a release process is to its service, one spelling for the agent, the control API, the targets,
// deploy and the views: starting (started, not yet taking traffic by default), serving (the release the
// route sends traffic to), warm (kept running at weight 0 for an instant rollback), canary (a Lambda
// version the alias gives part of the traffic), stopped. Parsed once, where it crosses the control API.
enum class SlotRole { kStarting, kServing, kWarm, kCanary, kStopped };
std::string_view to_string(SlotRole role);  // "starting" | "serving" | "warm" | "canary" | "stopped"
Result<SlotRole> parse_slot_role(std::string_view text);

struct SlotInfo {
  std::string service;
  std::string digest;
  std::string version;
  SlotRole role = SlotRole::kStarting;
  int port = 0;
  int pid = 0;
  int weight = 0;
  int restarts = 0;
  bool healthy = false;
  int64_t started_at_ms = 0;
  std::string host;  // the fleet host it runs on (target "ssh"); "" on one-host targets
};

class Fleet;
class ControlClient;

class Target {
 public:
  virtual ~Target() = default;
  virtual std::string kind() const = 0;
  // Starts `digest` as a new slot taking no traffic and waits until it is healthy.
  virtual Result<SlotInfo> start_candidate(const std::string& service, const std::string& digest,
                                           const std::string& version) = 0;
  // Installs weights (percent per digest, summing to 100) atomically for one service.
  virtual Status set_weights(const std::string& service, const std::map<std::string, int>& weights) = 0;
  // Makes `digest` the serving release at 100%; the previous one is kept warm, older ones stopped.
  virtual Status promote(const std::string& service, const std::string& digest) = 0;
  // Checks, before anything changes anywhere, that `digest` fits the target (Lambda's size limits), from
  // local files and the configuration only. Default: everything fits.
  virtual Status check_release(const std::string& /*service*/, const std::string& /*digest*/) { return Ok(); }
  // Runs once a deploy's release serves all traffic, before the public smoke suite; a failure rolls the
  // deploy back (Lambda's post-traffic hook). Not called when a rollback promotes an older release.
  virtual Status verify_promoted(const std::string& /*service*/, const std::string& /*digest*/) {
    return Ok();
  }
  // Stops a slot that takes no traffic.
  virtual Status stop(const std::string& service, const std::string& digest) = 0;
  virtual Result<std::vector<SlotInfo>> slots() = 0;
  // The public base URL of a service ("http://127.0.0.1:8080").
  virtual std::string public_url(const std::string& service) const = 0;
  // The base URL that reaches one slot directly, bypassing the public route.
  virtual std::string slot_url(const SlotInfo& slot) const = 0;

  // Rollback rehearsal, for targets whose rollback depends on a process that must start: start the
  // previous release in a spare slot (never routed publicly), then rehearsal_finish() swaps a private
  // rehearsal route to it and back, stops the spare, and returns the swap time in milliseconds.
  // Targets that keep every release servable (lambda: a version is immutable) do not need it.
  virtual bool supports_rehearsal() const { return false; }
  virtual Result<SlotInfo> rehearsal_start(const std::string& service, const std::string& digest,
                                           const std::string& version) {
    (void)service, (void)digest, (void)version;
    return FailedPrecondition(kind() + " targets have no rollback rehearsal");
  }
  // With `abort`, only stops the spare (its smoke failed).
  virtual Result<int64_t> rehearsal_finish(const std::string& service, const std::string& digest,
                                           bool abort = false) {
    (void)service, (void)digest, (void)abort;
    return FailedPrecondition(kind() + " targets have no rollback rehearsal");
  }

  // A fleet of hosts (target "ssh"), for the batched rollout; nullptr on one-host targets. The Target
  // methods above then act on every host at once, in parallel.
  virtual Fleet* fleet() { return nullptr; }
  // The villager agent behind this target (local, and each host of a fleet), for the monitor's reads
  // (windows, alarms); nullptr where no agent runs (lambda, url).
  virtual ControlClient* control() { return nullptr; }
};

// The hosts of a fleet, each its own one-host Target (the host's agent, reached over SSH).
class Fleet {
 public:
  virtual ~Fleet() = default;
  virtual const config::SshConfig& settings() const = 0;
  virtual size_t size() const = 0;
  virtual const config::SshHost& host(size_t i) const = 0;
  // Host i's target, or why it cannot be reached now (unreachable, not set up, host key refused).
  virtual Result<Target*> host_target(size_t i) = 0;
};

Result<std::unique_ptr<Target>> make_target(const config::Config& config, const std::string& environment);

}  // namespace villager::targets
