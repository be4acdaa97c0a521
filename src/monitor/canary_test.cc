#include "monitor/canary.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "testutil/fake_clock.h"

namespace villager::monitor {
namespace {

TEST(MannWhitney, SeparatedSamplesMatchHandComputedValues) {
  // a = {1,2,3}, b = {4,5,6}: R_a = 6, U_a = 0; mean = 4.5; var = 3*3/12 * 7 = 5.25;
  // z = -4.5 / sqrt(5.25) = -1.963961; P(Z > z) = 0.975233.
  MannWhitney r = mann_whitney({1, 2, 3}, {4, 5, 6});
  EXPECT_DOUBLE_EQ(r.u, 0);
  EXPECT_NEAR(r.z, -1.963961, 1e-6);
  EXPECT_NEAR(r.p_greater, 0.975233, 1e-6);
  MannWhitney s = mann_whitney({4, 5, 6}, {1, 2, 3});
  EXPECT_DOUBLE_EQ(s.u, 9);
  EXPECT_NEAR(s.p_greater, 0.024767, 1e-6);
}

TEST(MannWhitney, TiesUseAverageRanksAndTheTieCorrection) {
  // a = {1,2,2,3}, b = {2,3,4,5}. Ranks: 1->1; the three 2s -> 3; the two 3s -> 5.5; 4->7; 5->8.
  // R_a = 1 + 3 + 3 + 5.5 = 12.5, U_a = 12.5 - 10 = 2.5. Ties: (27-3) + (8-2) = 30.
  // var = 16/12 * (9 - 30/56) = 11.285714; z = (2.5 - 8) / 3.359424 = -1.637187.
  MannWhitney r = mann_whitney({1, 2, 2, 3}, {2, 3, 4, 5});
  EXPECT_DOUBLE_EQ(r.u, 2.5);
  EXPECT_NEAR(r.z, -1.637187, 1e-6);
  EXPECT_NEAR(r.p_greater, 0.949204, 1e-5);
}

TEST(MannWhitney, HistogramBucketsAreTies) {
  stats::Histogram a, b;
  for (uint64_t v : {1, 2, 2, 3}) a.record(v);
  for (uint64_t v : {2, 3, 4, 5}) b.record(v);
  MannWhitney r = mann_whitney(a, b);
  EXPECT_DOUBLE_EQ(r.u, 2.5);
  EXPECT_NEAR(r.z, -1.637187, 1e-6);
}

TEST(MannWhitney, BinaryOutcomes) {
  // a: 2 errors of 4; b: 0 of 4. Groups: zeros (2 in a, 4 in b) ranks 1..6 avg 3.5; ones (2) avg 7.5.
  // R_a = 2*3.5 + 2*7.5 = 22, U_a = 22 - 10 = 12; ties (216-6)+(8-2) = 216; var = 16/12*(9-216/56)
  // = 6.857143; z = (12-8)/2.618615 = 1.527525.
  MannWhitney r = mann_whitney_binary(2, 4, 0, 4);
  EXPECT_DOUBLE_EQ(r.u, 12);
  EXPECT_NEAR(r.z, 1.527525, 1e-6);
  EXPECT_EQ(mann_whitney_binary(0, 10, 0, 10).p_greater, 0.5);  // all tied: no evidence
}

WindowStats stats_of(int ok, int errors, uint64_t latency_us, uint64_t jitter_us = 0) {
  FakeClock clock;
  MetricsRegistry reg(clock);
  auto rec = reg.recorder("e", "s");
  for (int i = 0; i < ok; ++i) rec->record("r", 200, latency_us + (jitter_us ? i % jitter_us : 0), 0, 0);
  for (int i = 0; i < errors; ++i) rec->record("r", 500, latency_us, 0, 0);
  return reg.window("e", "s", "r", std::chrono::minutes(1));
}

TEST(Canary, ErrorsFailWithEnoughSamples) {
  CanaryResult r = analyze_canary(stats_of(500, 0, 1000, 50), stats_of(80, 20, 1000, 50));
  EXPECT_EQ(r.verdict, Verdict::kFail) << r.summary();
  EXPECT_EQ(r.metrics[0].metric, "error_rate");
  EXPECT_TRUE(r.metrics[0].tested);
  EXPECT_LT(r.metrics[0].p_value, 0.05);
}

TEST(Canary, BetweenLooksAConfirmedBreachWaitsAndAGrossOneStillFails) {
  CanaryPolicy between;
  between.test_look = false;
  // 20% errors on 100 requests: confirmed by the U test, but between looks it waits for the next one.
  CanaryResult r = analyze_canary(stats_of(500, 0, 1000, 50), stats_of(92, 8, 1000, 50), between);
  EXPECT_EQ(r.verdict, Verdict::kInconclusive) << r.summary();
  EXPECT_NE(r.metrics[0].rule.find("decided at the step's next look"), std::string::npos) << r.summary();
  EXPECT_EQ(analyze_canary(stats_of(500, 0, 1000, 50), stats_of(92, 8, 1000, 50)).verdict, Verdict::kFail);
  // At least gross_5xx candidate 5xx over the limit fails at any poll.
  EXPECT_EQ(analyze_canary(stats_of(500, 0, 1000, 50), stats_of(80, 20, 1000, 50), between).verdict,
            Verdict::kFail);
}

TEST(CanaryLooks, TheDefaultStepLooksAtEachWholeIntervalAndTheDeadline) {
  using std::chrono::milliseconds;
  CanaryLooks d{milliseconds(30000), milliseconds(90000), milliseconds(500)};
  EXPECT_EQ(d.looks(), 3);
  EXPECT_TRUE(d.is_look(milliseconds(30000), false));
  EXPECT_FALSE(d.is_look(milliseconds(30500), false));
  EXPECT_TRUE(d.is_look(milliseconds(60000), false));
  EXPECT_FALSE(d.is_look(milliseconds(89500), false));
  EXPECT_TRUE(d.is_look(milliseconds(89700), true));  // the deadline is always a look
}

TEST(CanaryLooks, AStepShorterThanAPollLooksAtEveryPollAndCountsThem) {
  using std::chrono::milliseconds;
  // 300 ms steps, deadline 900 ms: polls at 300, 800 and 1300 (the deadline) ms are all looks.
  CanaryLooks s{milliseconds(300), milliseconds(900), milliseconds(500)};
  EXPECT_EQ(s.looks(), 3);
  EXPECT_TRUE(s.is_look(milliseconds(300), false));
  EXPECT_TRUE(s.is_look(milliseconds(800), false));
  // An interval that is not a multiple of the poll still looks once per interval.
  CanaryLooks odd{milliseconds(1200), milliseconds(3600), milliseconds(500)};
  EXPECT_EQ(odd.looks(), 3);
  int looks = 0;
  for (auto w = milliseconds(1200); w < milliseconds(3600); w += milliseconds(500))
    looks += odd.is_look(w, false);
  EXPECT_EQ(looks, 2);  // 1200 and 2700; the deadline makes the third
}

TEST(Canary, SlowCandidateFailsOnLatency) {
  CanaryResult r = analyze_canary(stats_of(500, 0, 1000, 50), stats_of(100, 0, 300'000, 50));
  EXPECT_EQ(r.verdict, Verdict::kFail) << r.summary();
  EXPECT_EQ(r.metrics[2].metric, "p99");
  EXPECT_EQ(r.metrics[2].verdict, Verdict::kFail);
}

TEST(Canary, CleanCandidatePasses) {
  CanaryResult r = analyze_canary(stats_of(500, 1, 1000, 50), stats_of(100, 0, 1000, 50));
  EXPECT_EQ(r.verdict, Verdict::kPass) << r.summary();
}

TEST(Canary, NoOrLittleTrafficIsInconclusive) {
  EXPECT_EQ(analyze_canary(stats_of(500, 0, 1000), stats_of(0, 0, 0)).verdict, Verdict::kInconclusive);
  EXPECT_EQ(analyze_canary(stats_of(500, 0, 1000), stats_of(5, 0, 1000)).verdict, Verdict::kInconclusive);
}

TEST(Canary, FewSamplesFailOnlyByAGrossRule) {
  // 30 requests (< 50): no U test; 10 5xx is the gross rule (>= gross_5xx over the limit) -> fail.
  CanaryResult r = analyze_canary(stats_of(500, 0, 1000), stats_of(20, 10, 1000));
  EXPECT_EQ(r.verdict, Verdict::kFail);
  EXPECT_FALSE(r.metrics[0].tested);
  EXPECT_NE(r.metrics[0].rule.find("gross: 10 candidate 5xx"), std::string::npos) << r.metrics[0].rule;
  // 3 of 30 failed: over the threshold, but neither gross nor tested -> wait for more samples.
  CanaryResult few = analyze_canary(stats_of(500, 0, 1000), stats_of(27, 3, 1000));
  EXPECT_EQ(few.verdict, Verdict::kInconclusive) << few.summary();
  EXPECT_NE(few.metrics[0].rule.find("waiting for samples"), std::string::npos);
  // Every one of 5 requests failed: gross.
  EXPECT_EQ(analyze_canary(stats_of(500, 0, 1000), stats_of(0, 5, 1000)).verdict, Verdict::kFail);
}

TEST(Canary, OneSlowRequestNeverFailsARelease) {
  // The report that started this: "candidate 1 requests, baseline 97 ... p50 fail".
  CanaryResult r = analyze_canary(stats_of(97, 0, 1000, 50), stats_of(1, 0, 900'000));
  EXPECT_NE(r.verdict, Verdict::kFail) << r.summary();
  EXPECT_TRUE(r.metrics[1].breached);
  EXPECT_EQ(r.metrics[1].verdict, Verdict::kInconclusive);
  // Four slow ones (< kGrossMinRequests) do not either; ten do (p50 over 4x its limit).
  EXPECT_NE(analyze_canary(stats_of(97, 0, 1000, 50), stats_of(4, 0, 900'000)).verdict, Verdict::kFail);
  CanaryResult gross = analyze_canary(stats_of(97, 0, 1000, 50), stats_of(10, 0, 900'000));
  EXPECT_EQ(gross.verdict, Verdict::kFail) << gross.summary();
  EXPECT_NE(gross.metrics[1].rule.find("gross: p50"), std::string::npos);
  CanaryPolicy off;
  off.gross_latency_ratio = 0;
  EXPECT_EQ(analyze_canary(stats_of(97, 0, 1000, 50), stats_of(10, 0, 900'000), off).verdict,
            Verdict::kInconclusive);
}

TEST(Canary, VerdictRecordsSamplesStatisticAndRule) {
  CanaryResult r = analyze_canary(stats_of(500, 0, 1000, 50), stats_of(100, 0, 300'000, 50));
  auto j = store::to_json(r.analysis());
  EXPECT_EQ(j["verdict"], "fail");
  EXPECT_EQ(j["baseline_requests"], 500);
  EXPECT_EQ(j["candidate_requests"], 100);
  EXPECT_EQ(j["min_samples"], 50);
  const auto& p99 = j["metrics"][2];
  EXPECT_EQ(p99["metric"], "p99");
  EXPECT_EQ(p99["rule"], "over the limit and U test p < alpha/2");
  EXPECT_GT(p99["z"].get<double>(), 2);
  EXPECT_LT(p99["p"].get<double>(), 0.05);
  EXPECT_GT(p99["limit"].get<double>(), 0);
}

TEST(Canary, BreachTheTestDoesNotConfirmIsInconclusive) {
  // Baseline 1/60 errors, candidate 2/60: over the 1% margin but not significant.
  CanaryResult r = analyze_canary(stats_of(59, 1, 1000, 20), stats_of(58, 2, 1000, 20));
  EXPECT_TRUE(r.metrics[0].breached);
  EXPECT_EQ(r.metrics[0].verdict, Verdict::kInconclusive) << r.summary();
  EXPECT_EQ(r.verdict, Verdict::kInconclusive);
}

TEST(Canary, FirstDeployWithoutBaselineJudgesErrorsOnly) {
  CanaryResult r = analyze_canary(stats_of(0, 0, 0), stats_of(100, 0, 300'000));
  EXPECT_EQ(r.verdict, Verdict::kPass) << r.summary();
  EXPECT_EQ(analyze_canary(stats_of(0, 0, 0), stats_of(50, 50, 1000)).verdict, Verdict::kFail);
}

}  // namespace
}  // namespace villager::monitor
