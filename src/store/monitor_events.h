#pragma once
// alarm_events and probe_samples: what monitoring recorded. Alarm state changes are history (never
// updated); probe samples are one row per health GET, so availability over any window is a count.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"

namespace villager::store {

class Store;

struct AlarmEventRow {
  int64_t id = 0;  // assigned on insert
  int64_t ts = 0;  // unix ms; 0 = now
  std::string environment;
  std::string service;
  std::string release;
  std::string alarm;
  std::string metric;
  std::string severity;
  std::string from_state;  // ok | pending | firing | resolved
  std::string to_state;
  std::optional<double> value;  // nullopt when the metric had no data
  double threshold = 0;
};

Result<int64_t> insert_alarm_event(Store& store, const AlarmEventRow& row);
// Oldest first. environment/service "" = any; since_ms 0 = all.
Result<std::vector<AlarmEventRow>> list_alarm_events(Store& store, const std::string& environment = "",
                                                     const std::string& service = "", int64_t since_ms = 0);

struct ProbeSampleRow {
  int64_t ts = 0;  // unix ms; 0 = now
  std::string environment;
  std::string service;
  std::string kind;  // public | slot | url
  std::string release;
  bool ok = false;
  int status = 0;
  int64_t latency_us = 0;
  std::string detail;
  std::string state{};         // up | down | auth_failed | pending ("" in rows written before schema 4)
  bool during_deploy = false;  // villager's own deploy was moving this service's traffic
};

Status insert_probe_sample(Store& store, const ProbeSampleRow& row);

struct Availability {
  int64_t samples = 0;        // counted probes: every state but pending
  int64_t ok = 0;             // of those, up (an auth failure is an answer: up, and counted apart)
  int64_t pending = 0;        // before the first healthy cutover: left out of the ratio
  int64_t auth_failed = 0;    // answered 401/403
  int64_t during_deploy = 0;  // counted probes while villager's own deploy moved traffic
  int64_t during_deploy_ok = 0;
  int64_t first_ts = 0, last_ts = 0;  // unix ms of the first and last counted probe; 0 when none
  int64_t downtime_ms = 0;            // each down probe until the next counted probe of its kind
  double ratio() const { return samples ? static_cast<double>(ok) / static_cast<double>(samples) : 1.0; }
  void add(const Availability& o);  // sums counts, widens the time span
};
// The newest probe sample of what users reach (public and url probes) of environment + service;
// nullopt when there is none. Its state says `pending` before the first healthy cutover.
Result<std::optional<ProbeSampleRow>> last_probe_sample(Store& store, const std::string& environment,
                                                        const std::string& service);

// Probe samples of one environment + service with since_ms <= ts < until_ms. kind "" = what users
// reach (public and url probes); "slot" probes are one release's own port.
Result<Availability> probe_availability(Store& store, const std::string& environment,
                                        const std::string& service, const std::string& kind, int64_t since_ms,
                                        int64_t until_ms = INT64_MAX);

}  // namespace villager::store
