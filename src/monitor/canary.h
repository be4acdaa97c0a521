#pragma once
// Canary analysis: the candidate release's metrics over a canary step against the baseline (the serving
// release over the same length of time, captured before the deploy). Per metric (error rate, p50, p99)
// a threshold, a one-sided Mann-Whitney U test (normal approximation with tie correction) that the
// candidate is worse, and explicit gross-breach rules. Each metric's verdict names the rule that decided:
//   fail          a gross breach (>= gross_5xx candidate 5xx over the limit, every candidate request
//                 failed, or candidate p50 over gross_latency_ratio x its limit with >= kGrossMinRequests),
//                 or, with min_samples on both sides, over the threshold and the U test agrees
//                 (p < alpha/2: alpha is split over the error test and the latency test)
//   inconclusive  no candidate traffic, fewer than min_samples on a side, or a breach the test does not
//                 confirm: the step waits for more data, and at its deadline the environment's
//                 on_inconclusive policy decides
//   pass          min_samples on both sides and within the threshold; with no baseline traffic (a first
//                 deploy, an idle service) unless a gross rule fails it
// Overall: any fail -> fail, else any inconclusive -> inconclusive, else pass. A single slow or failed
// request never fails a release on its own.

#include <string>
#include <string_view>
#include <vector>

#include "monitor/metrics.h"
#include "stats/histogram.h"
#include "store/step_detail.h"

namespace villager::monitor {

enum class Verdict { kPass, kFail, kInconclusive };
std::string_view to_string(Verdict v);  // "pass" | "fail" | "inconclusive"

struct MannWhitney {
  double u = 0;          // U of the first sample (number of (a, b) pairs with a > b, ties counting 1/2)
  double z = 0;          // normal approximation, positive when the first sample tends to be larger
  double p_greater = 1;  // one-sided p-value for "the first sample is stochastically larger"
  uint64_t n1 = 0, n2 = 0;
};

// U test on raw values (ties get their average rank).
MannWhitney mann_whitney(std::vector<double> a, std::vector<double> b);
// U test on two log-linear histograms: values in the same bucket are ties. Exact on bucketed data.
MannWhitney mann_whitney(const stats::Histogram& a, const stats::Histogram& b);
// U test on 0/1 outcomes (errors): a has `a_hits` ones out of `a_n`.
MannWhitney mann_whitney_binary(uint64_t a_hits, uint64_t a_n, uint64_t b_hits, uint64_t b_n);

struct CanaryPolicy {
  static constexpr uint64_t kDefaultMinSamples = 50;
  static constexpr uint64_t kGrossMinRequests = 5;  // the gross rules need at least this many requests
  uint64_t min_samples = kDefaultMinSamples;        // per side, before any pass or statistical fail
  // One-sided significance for the release as a whole: the error test and the latency test each use
  // alpha / kTests, so identical releases fail at most alpha of the time per analysis.
  double alpha = 0.05;
  static constexpr int kTests = 2;
  // False between a canary step's statistical looks: a breach the U test confirms stays inconclusive
  // there (the gross rules still fail), so a step that re-judges its growing window every poll does not
  // spend alpha at every poll. The step divides alpha over its looks (docs/monitor.md, "Whole steps").
  bool test_look = true;
  double max_error_rate_increase = 0.01;  // candidate 5xx rate may exceed baseline by this much
  double max_latency_ratio = 1.5;         // candidate pNN <= baseline pNN * ratio + slack
  // Absolute slack on top of the ratio: loopback services answer in well under a millisecond, where a
  // busy host alone moves p99 by several; a real regression (hundreds of ms) still stands out.
  double latency_slack_seconds = 0.025;
  uint64_t gross_5xx = 10;         // this many candidate 5xx over the error-rate limit: fail
  double gross_latency_ratio = 4;  // candidate p50 over this many times its limit: fail; 0 = off
};

struct MetricVerdict {
  std::string metric;  // error_rate | p50 | p99
  double baseline = 0;
  double candidate = 0;
  double limit = 0;  // the threshold the candidate was held to
  bool breached = false;
  bool tested = false;  // whether the U test ran (min_samples on both sides)
  double z = 0;         // the U test's statistic, positive when the candidate is worse
  double p_value = 1;
  Verdict verdict = Verdict::kPass;
  std::string rule;  // what decided: "within the limit", "U test p < alpha", "gross: 12 5xx", ...
};

struct CanaryResult {
  Verdict verdict = Verdict::kPass;
  uint64_t baseline_requests = 0;
  uint64_t candidate_requests = 0;
  uint64_t min_samples = 0;
  double alpha = 0;
  std::vector<MetricVerdict> metrics;
  std::string summary() const;  // one line: "fail: candidate 80 requests, baseline 400; error_rate ..."
  // Every figure (n per side, per metric z, p, limit, rule and verdict), as a step's detail keeps it.
  store::CanaryAnalysis analysis() const;
};

// When a canary step makes its statistical looks (docs/monitor.md, "Whole steps"). The step judges the
// candidate's window every `poll`, from `interval` (the window's first length) to `deadline` (the whole
// step); a look is each whole `interval` of the window (at least `poll` apart) and the deadline. The
// judge divides alpha over looks(), so a good release fails the step at most alpha of the time.
struct CanaryLooks {
  Millis interval;  // step_interval
  Millis deadline;  // the step's deadline: max_step_duration, default 3 x step_interval
  Millis poll;      // how often the step re-judges

  int looks() const;  // the most looks a step can make
  bool is_look(Millis window, bool at_deadline) const;
};

CanaryResult analyze_canary(const WindowStats& baseline, const WindowStats& candidate,
                            const CanaryPolicy& policy = {});

}  // namespace villager::monitor
