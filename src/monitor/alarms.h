#pragma once
// Alarm evaluation: each [[monitor.alarm]] rule is evaluated per service of one environment. States move
// ok -> pending (first breach) -> firing (after `consecutive` breaches in a row) -> resolved (first
// evaluation without a breach) -> ok (the next one without a breach); a breach while resolved goes back
// to pending, one without while pending back to ok. A metric with no data in its window is no breach.
// Every change is returned as a transition; record_transitions() stores them in alarm_events.

#include <array>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/error.h"
#include "config/config.h"
#include "monitor/metrics.h"
#include "monitor/prometheus.h"

namespace villager::store {
class Store;
}

namespace villager::monitor {

enum class AlarmState { kOk, kPending, kFiring, kResolved };
std::string_view to_string(AlarmState state);  // "ok" | "pending" | "firing" | "resolved"

// The metric names an alarm may use.
inline constexpr std::array<std::string_view, 7> kAlarmMetrics = {
    "error_rate", "p50", "p90", "p99", "errors_5xx", "availability", "restarts"};

// Where alarm values come from. nullopt means "no data in the window" (never a breach).
class MetricSource {
 public:
  virtual ~MetricSource() = default;
  virtual std::optional<double> value(const std::string& metric, const std::string& environment,
                                      const std::string& service, Millis window) = 0;
};

// Timestamps of crash restarts per environment + service, for the `restarts` metric. Thread-safe.
class RestartTracker {
 public:
  explicit RestartTracker(Clock& clock) : clock_(clock) {}
  void note(const std::string& environment, const std::string& service);
  uint64_t count(const std::string& environment, const std::string& service, Millis window) const;

 private:
  static constexpr size_t kMaxKept = 1000;  // per service; older restarts are forgotten
  Clock& clock_;
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, std::deque<SteadyTime>> times_;  // Guarded by mu_.
};

// The agent's source: request metrics from the registry (p50/p90/p99 in milliseconds, error_rate as the 5xx
// fraction, errors_5xx as a count), restarts from a RestartTracker, availability from a callback (the
// Prober). Request metrics with no request in the window are "no data".
class StandardSource : public MetricSource {
 public:
  using Lookup = std::function<std::optional<double>(const std::string& environment,
                                                     const std::string& service, Millis window)>;
  StandardSource(MetricsRegistry& registry, RestartTracker* restarts, Lookup availability)
      : registry_(registry), restarts_(restarts), availability_(std::move(availability)) {}
  std::optional<double> value(const std::string& metric, const std::string& environment,
                              const std::string& service, Millis window) override;

 private:
  MetricsRegistry& registry_;
  RestartTracker* restarts_;
  Lookup availability_;
};

struct AlarmTransition {
  config::AlarmConfig alarm;
  std::string environment;
  std::string service;
  std::string release;  // the release serving when it changed (from the release lookup), may be empty
  AlarmState from = AlarmState::kOk;
  AlarmState to = AlarmState::kOk;
  std::optional<double> value;
  SystemTime at;
};

class AlarmEvaluator {
 public:
  AlarmEvaluator(std::vector<config::AlarmConfig> alarms, std::string environment,
                 std::vector<std::string> services, MetricSource& source, Clock& clock);

  // Names the release currently serving a service, for transitions (optional).
  void set_release_lookup(std::function<std::string(const std::string& service)> lookup) {
    release_of_ = std::move(lookup);
  }

  // One evaluation of every rule for every service it applies to; returns the state changes in order.
  std::vector<AlarmTransition> evaluate();

  AlarmState state(const std::string& alarm, const std::string& service) const;
  // The firing alarms of a service with severity "critical" (names); empty when none.
  std::vector<std::string> firing_critical(const std::string& service) const;
  std::vector<AlarmGauge> gauges() const;
  const std::string& environment() const { return environment_; }

 private:
  struct Track {
    AlarmState state = AlarmState::kOk;
    int breaches = 0;  // consecutive breaching evaluations
  };
  bool applies(const config::AlarmConfig& a, const std::string& service) const;

  std::vector<config::AlarmConfig> alarms_;
  std::string environment_;
  std::vector<std::string> services_;
  MetricSource& source_;
  Clock& clock_;
  std::function<std::string(const std::string&)> release_of_;
  std::map<std::pair<std::string, std::string>, Track> tracks_;  // (alarm, service) -> state
};

// Appends each transition to the store's alarm_events table.
Status record_transitions(store::Store& store, const std::vector<AlarmTransition>& transitions);

// Whether `value` breaches the rule (above: value > threshold; below: value < threshold).
bool breaches(const config::AlarmConfig& alarm, double value);

}  // namespace villager::monitor
