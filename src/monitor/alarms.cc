#include "monitor/alarms.h"

#include <algorithm>

#include "store/store.h"

namespace villager::monitor {

std::string_view to_string(AlarmState state) {
  switch (state) {
    case AlarmState::kOk:
      return "ok";
    case AlarmState::kPending:
      return "pending";
    case AlarmState::kFiring:
      return "firing";
    case AlarmState::kResolved:
      return "resolved";
  }
  return "ok";
}

void RestartTracker::note(const std::string& environment, const std::string& service) {
  std::lock_guard lock(mu_);
  auto& q = times_[{environment, service}];
  q.push_back(clock_.steady_now());
  if (q.size() > kMaxKept) q.pop_front();
}

uint64_t RestartTracker::count(const std::string& environment, const std::string& service,
                               Millis window) const {
  SteadyTime from = clock_.steady_now() - window;
  std::lock_guard lock(mu_);
  auto it = times_.find({environment, service});
  if (it == times_.end()) return 0;
  return static_cast<uint64_t>(
      std::count_if(it->second.begin(), it->second.end(), [&](SteadyTime t) { return t >= from; }));
}

std::optional<double> StandardSource::value(const std::string& metric, const std::string& environment,
                                            const std::string& service, Millis window) {
  if (metric == "restarts") {
    if (!restarts_) return std::nullopt;
    return static_cast<double>(restarts_->count(environment, service, window));
  }
  if (metric == "availability") {
    if (!availability_) return std::nullopt;
    return availability_(environment, service, window);
  }
  WindowStats w = registry_.window(environment, service, "", window);
  if (w.counts.requests == 0) return metric == "errors_5xx" ? std::optional<double>(0) : std::nullopt;
  if (metric == "error_rate") return w.error_rate();
  if (metric == "errors_5xx") return static_cast<double>(w.errors_5xx());
  // Latency thresholds are milliseconds in villager.toml (as the starter config writes them).
  if (metric == "p50") return w.latency_quantile(0.50) * 1000;
  if (metric == "p90") return w.latency_quantile(0.90) * 1000;
  if (metric == "p99") return w.latency_quantile(0.99) * 1000;
  return std::nullopt;
}

bool breaches(const config::AlarmConfig& alarm, double value) {
  return alarm.comparison == "below" ? value < alarm.threshold : value > alarm.threshold;
}

AlarmEvaluator::AlarmEvaluator(std::vector<config::AlarmConfig> alarms, std::string environment,
                               std::vector<std::string> services, MetricSource& source, Clock& clock)
    : alarms_(std::move(alarms)),
      environment_(std::move(environment)),
      services_(std::move(services)),
      source_(source),
      clock_(clock) {}

bool AlarmEvaluator::applies(const config::AlarmConfig& a, const std::string& service) const {
  return a.service.empty() || a.service == service;
}

std::vector<AlarmTransition> AlarmEvaluator::evaluate() {
  std::vector<AlarmTransition> out;
  SystemTime now = clock_.now();
  for (const auto& a : alarms_) {
    for (const auto& service : services_) {
      if (!applies(a, service)) continue;
      std::optional<double> v = source_.value(a.metric, environment_, service, a.window);
      bool breach = v && breaches(a, *v);
      Track& t = tracks_[{a.name, service}];
      auto move_to = [&](AlarmState to) {
        AlarmTransition tr{a,       environment_, service, release_of_ ? release_of_(service) : "",
                           t.state, to,           v,       now};
        out.push_back(std::move(tr));
        t.state = to;
      };
      if (breach) {
        ++t.breaches;
        if (t.state == AlarmState::kOk || t.state == AlarmState::kResolved) move_to(AlarmState::kPending);
        if (t.state == AlarmState::kPending && t.breaches >= std::max(1, a.consecutive))
          move_to(AlarmState::kFiring);
      } else {
        t.breaches = 0;
        if (t.state == AlarmState::kPending || t.state == AlarmState::kResolved)
          move_to(AlarmState::kOk);
        else if (t.state == AlarmState::kFiring)
          move_to(AlarmState::kResolved);
      }
    }
  }
  return out;
}

AlarmState AlarmEvaluator::state(const std::string& alarm, const std::string& service) const {
  auto it = tracks_.find({alarm, service});
  return it == tracks_.end() ? AlarmState::kOk : it->second.state;
}

std::vector<std::string> AlarmEvaluator::firing_critical(const std::string& service) const {
  std::vector<std::string> out;
  for (const auto& a : alarms_)
    if (a.severity == "critical" && applies(a, service) && state(a.name, service) == AlarmState::kFiring)
      out.push_back(a.name);
  return out;
}

std::vector<AlarmGauge> AlarmEvaluator::gauges() const {
  std::vector<AlarmGauge> out;
  for (const auto& a : alarms_)
    for (const auto& service : services_)
      if (applies(a, service))
        out.push_back(
            {environment_, service, a.name, a.severity, state(a.name, service) == AlarmState::kFiring});
  return out;
}

Status record_transitions(store::Store& store, const std::vector<AlarmTransition>& transitions) {
  for (const auto& t : transitions) {
    store::AlarmEventRow row;
    row.ts = unix_millis(t.at);
    row.environment = t.environment;
    row.service = t.service;
    row.release = t.release;
    row.alarm = t.alarm.name;
    row.metric = t.alarm.metric;
    row.severity = t.alarm.severity;
    row.from_state = std::string(to_string(t.from));
    row.to_state = std::string(to_string(t.to));
    row.value = t.value;
    row.threshold = t.alarm.threshold;
    auto r = store::insert_alarm_event(store, row);
    if (!r) return r.error();
  }
  return Ok();
}

}  // namespace villager::monitor
