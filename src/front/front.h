#pragma once
// The front of a fleet (docs/targets/ssh.md, "The front"): one villager proxy per service, on the
// address `[environments.NAME.front] listen` names, spreading requests over every host's public listener
// for that service. A checker thread asks each host's health path (with the service's API key when the
// path is protected) every check_interval; `fall` failures in a row take the host out of the pool
// (weight 0, its idle connections closed), `rise` passes bring it back. A host's own switch between
// releases is atomic on the host, so a rollout or a fleet revert needs no change here.

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "base/error.h"
#include "config/config.h"

namespace villager::front {

// One host behind one service of the front.
struct Member {
  std::string host;     // the host's name in config ("web1"); also its id in the route table
  std::string address;  // where its listener for the service is reached
  uint16_t port = 0;
};

// One service of the front: where it listens, what a health check asks, and its hosts.
struct ServiceSpec {
  std::string service;
  config::HostPort listen;
  std::string health_path;
  std::string health_body;                                   // expected substring; "" = any 200
  std::vector<std::pair<std::string, std::string>> headers;  // sent with each check (the API key)
  std::vector<Member> members;
};

struct Checks {
  config::Millis interval{1000};
  config::Millis timeout{1000};
  int fall = 2;
  int rise = 2;
};

// A host entering or leaving a service's pool, and why ("status 503", "connection refused").
struct MemberChange {
  std::string service;
  std::string host;
  bool in_pool = false;
  std::string why;
};

// The front's services for an ssh environment with a `front` table. `secret` returns a secret's value
// by name (the environment's store); a protected health path without its key is an error naming it.
using SecretLookup = std::function<std::optional<std::string>(const std::string& name)>;
Result<std::vector<ServiceSpec>> front_services(const config::Config& config,
                                                const config::EnvironmentConfig& env,
                                                const SecretLookup& secret);

class Front {
 public:
  Front(std::vector<ServiceSpec> services, Checks checks, std::function<void(const MemberChange&)> on_change);
  ~Front();  // stop()s
  Front(const Front&) = delete;
  Front& operator=(const Front&) = delete;

  // Checks every host once (the pool starts with those that pass), binds every listener (an error names
  // the address) and starts the checker.
  Status start();
  // Stops the checker, then each proxy gracefully. Idempotent.
  void stop();
  // {"services": [{"service", "listen", "members": [{"host", "address", "in_pool", "why", "requests"}]}]}
  nlohmann::json state() const;

 private:
  struct ServiceRun;
  void check_round();
  void checker();

  Checks checks_;
  std::function<void(const MemberChange&)> on_change_;
  std::vector<std::unique_ptr<ServiceRun>> services_;
  mutable std::mutex mu_;  // guards the membership in services_ and stopping_
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread checker_;
};

}  // namespace villager::front
