#include "store/step_detail.h"

#include <gtest/gtest.h>

namespace villager::store {
namespace {

using json = nlohmann::json;

// A shift step's row as the canary hook writes it: the judge's keys flat at the top.
const char* kJudgedShift = R"({
  "weight": 10, "verdict": "fail", "baseline_requests": 400, "candidate_requests": 80,
  "min_samples": 50, "alpha": 0.05, "summary": "fail: candidate 80 requests",
  "metrics": [{"metric": "error_rate", "baseline": 0.0, "candidate": 0.2, "limit": 0.01,
               "breached": true, "tested": true, "z": 4.5, "p": 0.0001, "verdict": "fail",
               "rule": "u test p < alpha"}],
  "sides": {"baseline": {"requests": 400}, "candidate": {"requests": 80}},
  "synthetic": {"sent": 30, "recorded": 30},
  "duration_ms": 2100, "error": "canary analysis failed"})";

TEST(StepDetail, AJudgedShiftReadsAsItsTypedParts) {
  StepDetail d = parse_step_detail(kJudgedShift);
  ASSERT_TRUE(d.canary.has_value());
  EXPECT_EQ(d.weight, 10);
  EXPECT_EQ(d.canary->verdict, "fail");
  EXPECT_EQ(d.canary->candidate_requests, 80u);
  ASSERT_EQ(d.canary->metrics.size(), 1u);
  EXPECT_EQ(d.canary->metrics[0].rule, "u test p < alpha");
  EXPECT_DOUBLE_EQ(d.canary->metrics[0].p.value_or(-1), 0.0001);
  EXPECT_EQ(d.synthetic["sent"], 30);
  EXPECT_EQ(d.duration_ms, 2100);
  EXPECT_EQ(d.error, "canary analysis failed");
  EXPECT_TRUE(d.other.empty()) << d.other.dump();
}

TEST(StepDetail, AMetricWithNullFiguresStillReadsAsAnAnalysis) {
  // A figure JSON cannot hold (NaN: no samples on a side) is written as null.
  json j = json::parse(kJudgedShift);
  j["metrics"][0]["baseline"] = nullptr;
  j["metrics"][0]["z"] = nullptr;
  StepDetail d = step_detail_from_json(j);
  ASSERT_TRUE(d.canary.has_value());
  EXPECT_EQ(d.canary->metrics[0].baseline, 0.0);
  EXPECT_FALSE(d.canary->metrics[0].z.has_value());
}

TEST(StepDetail, WritingBackGivesTheSameObject) {
  json original = json::parse(kJudgedShift);
  EXPECT_EQ(parse_step_detail(kJudgedShift).to_json(), original);
}

TEST(StepDetail, KeysThisBuildDoesNotNameAreKeptAsWritten) {
  StepDetail d = parse_step_detail(R"({"swap_ms": 12, "from_a_newer_villager": {"x": 1}})");
  EXPECT_EQ(d.swap_ms, 12);
  EXPECT_EQ(d.to_json()["from_a_newer_villager"]["x"], 1);
}

TEST(StepDetail, ANamedKeyOfTheWrongTypeStaysUntyped) {
  StepDetail d = parse_step_detail(R"({"swap_ms": "fast", "alarms": [1, 2]})");
  EXPECT_FALSE(d.swap_ms.has_value());
  EXPECT_FALSE(d.alarms.has_value());
  EXPECT_EQ(d.to_json(), json::parse(R"({"swap_ms": "fast", "alarms": [1, 2]})"));
}

TEST(StepDetail, AWatchTableWithoutTheJudgesKeysIsNotACanaryAnalysis) {
  StepDetail d = parse_step_detail(R"({"metrics": [{"metric": "p99", "verdict": "pass"}]})");
  EXPECT_FALSE(d.canary.has_value());
  ASSERT_TRUE(d.metrics.is_array());
  EXPECT_EQ(d.metrics[0]["metric"], "p99");
  EXPECT_EQ(d.to_json()["metrics"][0]["verdict"], "pass");
}

TEST(StepDetail, TextThatIsNotAnObjectIsKeptAsText) {
  EXPECT_TRUE(parse_step_detail("").empty());
  StepDetail d = parse_step_detail("an old row's note");
  EXPECT_EQ(d.other["text"], "an old row's note");
  EXPECT_FALSE(d.canary.has_value());
}

TEST(StepDetail, AnEmptyDetailWritesAnEmptyObject) {
  StepDetail d;
  EXPECT_TRUE(d.empty());
  EXPECT_EQ(d.to_json().dump(), "{}");
  d.warm = false;  // a value that is set is written, even when it is false
  EXPECT_EQ(d.to_json().dump(), R"({"warm":false})");
}

}  // namespace
}  // namespace villager::store
