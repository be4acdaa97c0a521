#pragma once
// Uptime probes: a health GET per target (the public listener, each running slot directly, or a `url`
// environment's base URL) with a timeout. probe_once() probes every target once, keeps the samples in
// memory for availability windows (bounded) and stores them in probe_samples when given a store.
// Availability of a service counts its "public" and "url" samples: what users reach.
//
// What a probe saw is a ProbeState (docs/monitor.md, "Probes"):
//   up           the answer met the expectation (the status set, else 200 + body when a body is expected,
//                else any status below 500)
//   auth_failed  401/403: the service is alive but refused the probe (with the key sent: its own key)
//   down         no answer, a 5xx, or an answer that misses the expectation
//   pending      nothing has served this service yet (before the first healthy cutover): not counted

#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "monitor/metrics.h"
#include "monitor/prometheus.h"

namespace villager::store {
class Store;
struct ProbeSampleRow;
}  // namespace villager::store

namespace villager::monitor {

enum class ProbeState { kUp, kDown, kAuthFailed, kPending };
std::string_view to_string(ProbeState s);  // "up" | "down" | "auth_failed" | "pending"

struct ProbeTarget {
  std::string environment;
  std::string service;
  std::string kind;  // public | slot | url
  std::string release;
  std::string url;                   // full probe URL, e.g. http://127.0.0.1:8080/info/health
  std::string expect_body;           // substring a 200 must hold; empty = none
  std::vector<int> expect_status{};  // statuses that count as up; empty = see ProbeState above
  std::string auth_header{};         // sent with auth_value when both are set
  std::string auth_value{};          // a secret: never logged, never in a result's detail
  bool pending = false;              // nothing serves yet: the answer is recorded as pending
  bool during_deploy = false;        // villager's own deploy is moving this service's traffic
  bool verify_tls = true;            // false: the agent's own HTTPS listener (HttpRequest::verify_tls)
};

struct ProbeResult {
  ProbeTarget target;
  ProbeState state = ProbeState::kDown;
  bool ok = false;  // counts as up for availability: up or auth_failed
  int status = 0;
  uint64_t latency_us = 0;
  std::string detail;  // why it is not up
};

// The state an answer means for `target` (no answer: status 0). Sets `detail` when not up.
ProbeState classify_probe(const ProbeTarget& target, int status, std::string_view body, std::string& detail);
// The store row of a result (the secret is not part of it).
store::ProbeSampleRow probe_row(const ProbeResult& r);

// Does the GET; the default is http_probe (net::http_send). Tests may pass a stub.
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
