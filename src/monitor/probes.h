#pragma once
// Uptime probes: a health GET per target (the public listener, each running slot directly, or a `url`
// environment's base URL) with a timeout. probe_once() probes every target once, keeps the samples in
// memory for availability windows (bounded) and stores them in probe_samples when given a store.
// Availability of a service counts its "public" and "url" samples: what users reach.

#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "monitor/metrics.h"
#include "monitor/prometheus.h"

namespace villager::store {
class Store;
}

namespace villager::monitor {

struct ProbeTarget {
  std::string environment;
  std::string service;
  std::string kind;  // public | slot | url
  std::string release;
  std::string url;          // full health URL, e.g. http://127.0.0.1:8080/info/health
  std::string expect_body;  // substring the body must hold; empty = any 200
};

struct ProbeResult {
  ProbeTarget target;
  bool ok = false;
  int status = 0;
  uint64_t latency_us = 0;
  std::string detail;  // why it failed
};

// Does the GET; the default is http_request (libcurl). Tests may pass a stub.
using ProbeFn = std::function<ProbeResult(const ProbeTarget&, Millis timeout)>;
ProbeResult http_probe(const ProbeTarget& target, Millis timeout);

class Prober {
 public:
  static constexpr Millis kDefaultTimeout{2000};
  static constexpr size_t kMaxSamplesPerService = 4096;

  // `store` may be null (no persistence). The store is used only from the thread calling probe_once().
  Prober(Clock& clock, store::Store* store, Millis timeout = kDefaultTimeout, ProbeFn probe = http_probe);

  void set_targets(std::vector<ProbeTarget> targets);  // thread-safe
  // Probes every target once, in order; a store error is logged, not returned (probing goes on).
  std::vector<ProbeResult> probe_once();

  // Fraction of successful public/url probes of the service in the last `window`; nullopt if none.
  std::optional<double> availability(const std::string& environment, const std::string& service,
                                     Millis window) const;
  std::vector<ProbeGauge> gauges() const;  // the last result per target

 private:
  struct Sample {
    SteadyTime at;
    bool ok;
  };
  Clock& clock_;
  store::Store* store_;
  Millis timeout_;
  ProbeFn probe_;
  mutable std::mutex mu_;
  std::vector<ProbeTarget> targets_;                                           // Guarded by mu_.
  std::map<std::pair<std::string, std::string>, std::deque<Sample>> samples_;  // Guarded by mu_.
  std::vector<ProbeGauge> last_;                                               // Guarded by mu_.
};

}  // namespace villager::monitor
