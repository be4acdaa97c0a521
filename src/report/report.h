#pragma once
// The release role's targets and the five DORA metrics, measured from the store over a time window.
// A figure the store has no data for says "no data" and why; it is never guessed. Counting is per
// deployment row (one service in one environment); docs/report.md defines each figure exactly.
//
//   auto r = report::compute_report(store, &config, {"production", since_ms, now_ms});
//   std::cout << report::format_report(*r);

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "config/config.h"
#include "store/store.h"

namespace villager::report {

struct Figure {
  std::string key;              // "deployment_success_rate"
  std::string name;             // "Deployment success rate"
  std::optional<double> value;  // in `unit`; nullopt = no data
  std::string unit;             // "percent" | "ms" | "per_day"
  std::string display;          // "60.0% (3 of 5)", "no data"
  std::string target;           // "99%+", "under 5m"; "" for DORA figures
  std::optional<bool> met;      // nullopt when there is no data or no target
  std::string note;             // how it was measured, or why there is no data
  int samples = 0;
  std::optional<double> worst;  // approval to deployed: the worst case, ms
};

struct ReportOptions {
  std::string environment;  // "" = every environment
  int64_t since_ms = 0;     // deployments started at or after (unix ms)
  int64_t until_ms = 0;     // ... and before (unix ms)
};

struct Report {
  ReportOptions window;
  std::vector<Figure> targets;  // smoke pass rate, time to rollback, uptime, success, approval, coverage
  std::vector<Figure> dora;     // frequency, lead time, change failure rate, recovery time, rework rate
};

// Computes every figure. `config` (may be null) gives monitoring coverage: the environment's services
// with at least one alarm rule that applies to them.
Result<Report> compute_report(store::Store& store, const config::Config* config,
                              const ReportOptions& options);

// One rollback as mean_time_to_rollback counts it: a manual rollback from its command to restored, an
// automatic one (a deploy rolled back) from its failing step to restored.
struct RollbackTiming {
  int64_t deployment_id = 0;
  std::string environment{};
  std::string service{};
  std::string kind{};       // "manual" | "automatic"
  int64_t detected_at = 0;  // unix ms
  int64_t restored_at = 0;  // unix ms
  int64_t duration_ms = 0;  // restored_at - detected_at
};
// Every rollback of the window, oldest first: the rows behind mean_time_to_rollback.
Result<std::vector<RollbackTiming>> rollback_timings(store::Store& store, const ReportOptions& options);

// Human table: targets with measured value, target and met, then DORA, then notes.
std::string format_report(const Report& report);
// {"environment", "since", "until", "targets": [...], "dora": [...]} (figures as in Figure).
std::string report_to_json(const Report& report);

}  // namespace villager::report
