#pragma once
// A step's detail (deployment_steps.detail): what deploy, rollback and their hooks record with a step,
// and what the review document, `history --steps` and the dashboard read back. This header names every
// key once, as step_kinds.h names the steps (leveldb's log_format.h: one file for writer and reader).
//
// A row holds one flat JSON object; the canary judge's keys sit at its top level ("verdict", "metrics",
// ...), as every stored row has them. Keys this build does not name are kept as written (`other`), and
// a named key of the wrong type is kept there too, so a row written by a newer villager reads back
// whole.
//
//   StepDetail d;  d.swap_ms = 12;  d.previous = digest;               // pipeline/deploy.cc
//   auto d = parse_step_detail(row.detail);  if (d.canary) ...        // report/review.cc, dashboard

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace villager::store {

// One metric the canary judge compared (monitor/canary.h decides; this is how it is kept).
struct MetricJudgement {
  std::string metric;  // error_rate | p50 | p90 | p99
  double baseline = 0;
  double candidate = 0;
  double limit = 0;  // the candidate's bound, from the baseline and the environment's tolerance
  bool breached = false;
  bool tested = false;      // the Mann-Whitney U test ran (enough samples on both sides)
  std::optional<double> z;  // the test's statistic, when tested
  std::optional<double> p;  // its p value, when tested
  std::string verdict;      // pass | fail | inconclusive
  std::string rule;         // the rule that decided ("u test p < alpha", "gross: ...", ...)
};

// The canary judge's verdict at one weight: n per side, alpha and every metric.
struct CanaryAnalysis {
  std::string verdict;  // pass | fail | inconclusive
  uint64_t baseline_requests = 0;
  uint64_t candidate_requests = 0;
  uint64_t min_samples = 0;
  double alpha = 0;
  std::vector<MetricJudgement> metrics;
  std::string summary;  // the one line the progress output showed
};

struct StepDetail {
  std::optional<int> weight;             // "weight": a shift's (or a hold's) share for the candidate
  std::string reason;                    // "reason": why a canary is held at its weight
  std::optional<int> batch;              // "batch": a fleet batch's number, 1-based ...
  std::optional<int> of;                 // "of": ... of this many
  std::optional<CanaryAnalysis> canary;  // the judge's keys, flat: a shift below 100% that was judged
  nlohmann::json metrics;                // "metrics" without the judge's other keys: a watch's table
                                         // of rows {metric, baseline, candidate, verdict}; null: none
  nlohmann::json sides;                  // "sides": {baseline, candidate} windows the judge read; null: none
  nlohmann::json synthetic;              // "synthetic": what canary_synthetic sent; null: nothing
  nlohmann::json smoke;                  // "smoke": the smoke suite's report (smoke::to_json); null: none
  std::optional<std::vector<std::string>> alarms;  // "alarms": the critical alarms a watch saw; [] none
  std::optional<int64_t> swap_ms;                  // "swap_ms": a rehearsal's private route swap and back
  std::string previous;                            // "previous": the release a rehearsal swapped to
  std::optional<bool> warm;  // "warm": a rollback found the previous release still running
  nlohmann::json hosts;      // "hosts": a fleet step's hosts (fleet_rollout.h hosts_json)
  nlohmann::json fleet;      // "fleet": a fleet watch's windows per service and release
  std::optional<std::vector<std::string>> unread;   // "unread": fleet hosts the watch could not read
  std::optional<int64_t> duration_ms;               // "duration_ms": set by the step recorder
  std::string error;                                // "error": the step's error, when it failed
  nlohmann::json other = nlohmann::json::object();  // every key not named above, as written

  bool empty() const { return to_json().empty(); }
  nlohmann::json to_json() const;
};

nlohmann::json to_json(const CanaryAnalysis& a);
// A stored detail: "" or text that is not a JSON object reads as an empty detail (an old row's text is
// kept under other["text"]).
StepDetail parse_step_detail(std::string_view text);
StepDetail step_detail_from_json(const nlohmann::json& j);

}  // namespace villager::store
