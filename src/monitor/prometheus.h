#pragma once
// The Prometheus text exposition format 0.0.4 for the agent's GET /metrics. Every metric family gets
// HELP and TYPE lines; label values are escaped (\\, \", \n). Families:
//   villager_requests_total{environment,service,release,code_class}        counter ("1xx".."5xx")
//   villager_request_duration_seconds{environment,service,release,le}      histogram (_bucket/_sum/_count)
//   villager_request_bytes_total / villager_response_bytes_total{environment,service,release}  counters
//   villager_up{environment,service,kind,release}                          gauge, last probe 1/0
//   villager_restarts_total{environment,service,release}                   counter
//   villager_alarm_firing{environment,service,alarm,severity}              gauge 1 while firing
// The `le` bucket set is fixed (kLatencyBucketsSeconds) and derived from the log-linear histogram: the
// count for `le` is every recorded value whose log-linear bucket starts at or below `le`, so a value at
// most 1% (one bucket's width) above `le` may be counted in it; never one below it left out. Values
// over 60 s are clamped by the histogram into its top bucket and so count in le="60".

#include <array>
#include <string>
#include <vector>

#include "monitor/metrics.h"

namespace villager::monitor {

inline constexpr const char* kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

// Upper bounds in seconds (then +Inf): 0.5 ms to 60 s, the histogram's range.
inline constexpr std::array<double, 16> kLatencyBucketsSeconds = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

struct ProbeGauge {
  std::string environment;
  std::string service;
  std::string kind;  // public | slot | url
  std::string release;
  bool up = false;
};

struct RestartCount {
  std::string environment;
  std::string service;
  std::string release;
  uint64_t restarts = 0;
};

struct AlarmGauge {
  std::string environment;
  std::string service;
  std::string alarm;
  std::string severity;
  bool firing = false;
};

struct Exposition {
  std::vector<std::pair<SeriesKey, SeriesCounts>> series;  // MetricsRegistry::collect()
  std::vector<ProbeGauge> probes;
  std::vector<RestartCount> restarts;
  std::vector<AlarmGauge> alarms;
};

// The whole /metrics body.
std::string write_prometheus(const Exposition& e);

// `v` as a label value: backslash, double quote and newline escaped.
std::string escape_label_value(const std::string& v);

}  // namespace villager::monitor
