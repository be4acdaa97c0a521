#pragma once
// Supervisor: starts, health-checks, restarts and stops the release processes ("slots") of the local
// target. A slot is one release of one service in one environment, running from
// <state>/releases/<service>/<digest>/ on a free loopback port, in its own session so it outlives the
// agent. Slots are recorded in the store (pid + process start time) so a restarted agent re-adopts them.
// Thread-safe: every public method may be called from any thread.

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/hash.h"
#include "config/config.h"
#include "targets/target.h"

namespace villager::agent {

struct SlotKey {
  std::string env;
  std::string service;
  std::string digest;
  bool operator<(const SlotKey& o) const {
    return std::tie(env, service, digest) < std::tie(o.env, o.service, o.digest);
  }
  std::string to_string() const { return env + "/" + service + "@" + short_digest(digest); }
};

using targets::SlotRole;  // kCanary is never a local slot

struct SlotStatus {
  SlotKey key;
  std::string version;
  int port = 0;
  pid_t pid = 0;
  SlotRole role = SlotRole::kStarting;
  int weight = 0;
  int restarts = 0;
  bool healthy = false;
  int64_t started_at_ms = 0;
  unsigned long long start_time = 0;  // /proc start time of pid: tells our process from a reused pid
};

// Where the local target keeps a service's files (shared with the smoke suite's scan).
struct SlotPaths {
  std::filesystem::path release_dir;  // <state>/releases/<service>/<digest-hex>
  std::filesystem::path data_dir;     // <state>/data/<env>/<service>   (kept across releases)
  std::filesystem::path log_dir;      // <state>/logs/<env>/<service>
};
SlotPaths slot_paths(const std::filesystem::path& state_dir, const std::string& env,
                     const std::string& service, const std::string& digest);

// What a health check saw.
struct HealthResult {
  bool ok = false;
  int status = 0;
  std::string detail;  // "200", "connection refused", "body lacks \"status\":\"ok\""
};
// GET http://127.0.0.1:PORT/PATH with a timeout; ok when 200 and the body contains `expect_body`.
// `header`, when not empty, is sent as "Name: value" (the API key of a service whose health path is
// protected).
HealthResult check_health(int port, const std::string& path, const std::string& expect_body,
                          std::chrono::milliseconds timeout, const std::string& header = "");

// "Name: value" carrying a service's API key when it has one (its health path may be protected).
std::string auth_header(const config::ServiceConfig& svc, const std::map<std::string, std::string>& secrets);

class Supervisor {
 public:
  // Persists slot changes through `on_change` (the agent writes them to the store) and reports events
  // (restarts, crashes) through `on_event`.
  struct Hooks {
    std::function<void(const SlotStatus&)> on_change;
    std::function<void(const std::string& kind, const SlotStatus&, const std::string& detail)> on_event;
  };
  Supervisor(config::Config config, Hooks hooks);
  ~Supervisor();

  // Unpacks the artifact if needed, starts the release on a free port with `secrets` in its environment
  // and waits until it is healthy or the health deadline passes. A candidate that dies or never becomes
  // healthy is stopped and the error carries the reason and the tail of its stderr.
  Result<SlotStatus> start(const SlotKey& key, const std::string& version,
                           const std::map<std::string, std::string>& secrets);
  // Takes over a process a previous agent started, if `pid` still runs with `start_time`; otherwise
  // starts it again (serving and warm slots must keep running). Used once at agent start.
  Result<SlotStatus> adopt(const SlotStatus& recorded, unsigned long long start_time,
                           const std::map<std::string, std::string>& secrets);
  // Marks roles and weights (serving, warm, starting) without touching the process.
  Status set_role(const SlotKey& key, SlotRole role, int weight);
  // SIGTERM, then SIGKILL after the service's drain timeout; the slot is forgotten (its files stay).
  Status stop(const SlotKey& key);
  // Stops every slot (agent shutdown with --stop-releases).
  void stop_all();

  std::vector<SlotStatus> slots() const;
  std::optional<SlotStatus> slot(const SlotKey& key) const;

  // One supervision pass: reaps exited children, restarts crashed serving/warm slots with backoff.
  // The agent calls it every kSuperviseInterval.
  void supervise();

  static constexpr std::chrono::milliseconds kSuperviseInterval{200};
  static constexpr std::chrono::milliseconds kFirstHealthProbeDelay{25};  // doubles up to the health interval
  static constexpr std::chrono::milliseconds kMaxRestartBackoff{30000};
  static constexpr size_t kMaxLogBytes = 10 * 1024 * 1024;  // a release log is rotated past this

 private:
  struct Slot {
    SlotStatus status;
    std::map<std::string, std::string> secrets;
    bool own_child = true;  // false when adopted: we cannot waitpid it
    std::chrono::steady_clock::time_point next_restart{};
    std::chrono::milliseconds backoff{1000};
  };
  Result<pid_t> spawn(Slot& slot);
  void terminate(Slot& slot);
  const config::ServiceConfig* service(const std::string& name) const;

  config::Config config_;
  Hooks hooks_;
  mutable std::mutex mu_;
  std::map<SlotKey, Slot> slots_;  // Guarded by mu_.
};

}  // namespace villager::agent
