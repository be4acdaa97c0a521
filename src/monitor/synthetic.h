#pragma once
// Synthetic canary traffic (docs/monitor.md, "Synthetic canary traffic"): an environment's
// canary_synthetic requests sent to ONE candidate slot (the URL Target::slot_url gives), in list order
// round and round, one at a time, at most `rate` a second and `budget` in all, from a thread of its own
// until stop(). Each answer is a sample for the canary judge; a transport failure is kept as the proxy
// would answer it (502, or 504 for a timeout). The API key goes only with the service's protected paths.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/redact.h"
#include "config/config.h"

namespace villager::monitor {

struct SyntheticSample {
  int status = 0;
  uint64_t latency_us = 0;  // request sent to last byte read
  uint64_t bytes_out = 0;   // response body bytes
};

struct SyntheticPlan {
  static constexpr std::chrono::milliseconds kDefaultTimeout{2000};
  std::string slot_url;  // "http://127.0.0.1:PORT": the candidate slot, never a public listener
  std::vector<config::SyntheticRequest> requests;
  double rate = 20;         // requests per second at most
  size_t budget = 0;        // requests to send at most; 0 sends none
  std::string auth_header;  // with auth_value, sent on protected paths only
  Secret auth_value;
  std::vector<std::string> protected_paths;
  std::chrono::milliseconds timeout = kDefaultTimeout;  // per request
};

// Whether `path` (its query ignored) is one of `protected_paths` or below one ("/tokens" covers
// "/tokens/list").
bool synthetic_path_protected(const std::vector<std::string>& protected_paths, std::string_view path);

// Starts sending on construction; the destructor stops. Thread-safe.
class SyntheticTraffic {
 public:
  explicit SyntheticTraffic(SyntheticPlan plan);
  ~SyntheticTraffic();
  SyntheticTraffic(const SyntheticTraffic&) = delete;
  SyntheticTraffic& operator=(const SyntheticTraffic&) = delete;

  // Sends nothing more; waits for the request in flight (at most the plan's timeout).
  void stop();
  // The samples answered since the last take(), oldest first.
  std::vector<SyntheticSample> take();
  size_t sent() const { return sent_.load(); }
  // The budget is spent or stop() was called.
  bool done() const { return done_.load(); }
  // Requests sent so far by "METHOD /path", for the step's detail.
  std::map<std::string, size_t> sent_by_request() const;

 private:
  void run();

  SyntheticPlan plan_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;                     // Guarded by mu_.
  std::vector<SyntheticSample> pending_;      // Guarded by mu_.
  std::map<std::string, size_t> by_request_;  // Guarded by mu_.
  std::atomic<size_t> sent_{0};
  std::atomic<bool> done_{false};
  std::thread thread_;
};

}  // namespace villager::monitor
