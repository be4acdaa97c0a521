#include "store/monitor_events.h"

#include <gtest/gtest.h>

#include "store/test_helpers.h"

namespace villager::store {
namespace {

using testing::TestStore;

TEST(AlarmEvents, RoundTripInOrderWithNullValue) {
  TestStore s;
  AlarmEventRow e{0,          0,    "prod",    "user", "sha256:aa", "5xx", "error_rate",
                  "critical", "ok", "pending", 0.2,    0.01};
  ASSERT_TRUE(insert_alarm_event(*s, e));
  e.from_state = "pending";
  e.to_state = "firing";
  e.value.reset();
  ASSERT_TRUE(insert_alarm_event(*s, e));
  auto rows = list_alarm_events(*s, "prod", "user");
  ASSERT_TRUE(rows) << rows.error().message;
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].to_state, "pending");
  EXPECT_DOUBLE_EQ(*(*rows)[0].value, 0.2);
  EXPECT_EQ((*rows)[1].to_state, "firing");
  EXPECT_FALSE((*rows)[1].value.has_value());
  EXPECT_TRUE(list_alarm_events(*s, "other")->empty());
}

TEST(AlarmEvents, UnknownStateIsRejected) {
  TestStore s;
  AlarmEventRow e{0, 0, "prod", "user", "", "5xx", "error_rate", "critical", "ok", "burning", 1, 0};
  EXPECT_FALSE(insert_alarm_event(*s, e));
}

TEST(ProbeSamples, AvailabilityCountsWindowAndKind) {
  TestStore s;
  int64_t t0 = s->now_ms();
  ASSERT_TRUE(insert_probe_sample(*s, {t0 - 10'000, "prod", "user", "public", "", false, 0, 0, "old"}).ok());
  ASSERT_TRUE(insert_probe_sample(*s, {t0, "prod", "user", "public", "", true, 200, 900, ""}).ok());
  ASSERT_TRUE(insert_probe_sample(*s, {t0, "prod", "user", "public", "", false, 503, 800, ""}).ok());
  ASSERT_TRUE(insert_probe_sample(*s, {t0, "prod", "user", "slot", "sha256:a", true, 200, 700, ""}).ok());
  auto a = probe_availability(*s, "prod", "user", "public", t0 - 1000);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->samples, 2);
  EXPECT_EQ(a->ok, 1);
  EXPECT_DOUBLE_EQ(a->ratio(), 0.5);
  // "" is what users reach: the slot probe is left out.
  EXPECT_EQ(probe_availability(*s, "prod", "user", "", 0)->samples, 3);
  EXPECT_EQ(probe_availability(*s, "prod", "user", "public", 0, t0)->samples, 1);
}

TEST(ProbeSamples, LastSampleIsTheNewestPublicOne) {
  TestStore s;
  int64_t t0 = s->now_ms();
  auto none = last_probe_sample(*s, "prod", "user");
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
  ProbeSampleRow first{t0 - 1000, "prod", "user", "public", "v1", false, 0, 0, ""};
  first.state = "pending";
  ProbeSampleRow slot{t0 + 1000, "prod", "user", "slot", "v2", false, 503, 0, ""};
  slot.state = "down";
  ProbeSampleRow up{t0, "prod", "user", "public", "v1", true, 200, 900, ""};
  up.state = "up";
  for (const auto& r : {first, slot, up}) ASSERT_TRUE(insert_probe_sample(*s, r).ok());
  auto last = last_probe_sample(*s, "prod", "user");
  ASSERT_TRUE(last && *last);
  EXPECT_EQ((*last)->state, "up");  // the slot probe is newer, but users do not reach it
  EXPECT_EQ((*last)->ts, t0);
  EXPECT_EQ((*last)->latency_us, 900);
}

TEST(ProbeSamples, PendingIsLeftOutAndStatesAreCounted) {
  TestStore s;
  int64_t t0 = s->now_ms();
  auto row = [&](int64_t ts, bool ok, std::string state, bool deploying) {
    ProbeSampleRow r{ts, "prod", "admin", "public", "", ok, ok ? 200 : 503, 0, ""};
    r.state = std::move(state);
    r.during_deploy = deploying;
    return r;
  };
  ASSERT_TRUE(insert_probe_sample(*s, row(t0 - 3000, false, "pending", false)).ok());
  ASSERT_TRUE(insert_probe_sample(*s, row(t0 - 2000, true, "up", true)).ok());
  ASSERT_TRUE(insert_probe_sample(*s, row(t0 - 1000, true, "auth_failed", false)).ok());
  ASSERT_TRUE(insert_probe_sample(*s, row(t0, false, "down", true)).ok());
  auto a = probe_availability(*s, "prod", "admin", "", 0);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->samples, 3);
  EXPECT_EQ(a->ok, 2);
  EXPECT_EQ(a->pending, 1);
  EXPECT_EQ(a->auth_failed, 1);
  EXPECT_EQ(a->during_deploy, 2);
  EXPECT_EQ(a->during_deploy_ok, 1);
  EXPECT_EQ(a->first_ts, t0 - 2000);
  EXPECT_EQ(a->last_ts, t0);
  EXPECT_EQ(a->downtime_ms, 0);  // the one down probe is the last: nothing after it to measure
  ASSERT_TRUE(insert_probe_sample(*s, row(t0 + 1500, true, "up", false)).ok());
  EXPECT_EQ(probe_availability(*s, "prod", "admin", "", 0)->downtime_ms, 1500);
  Availability sum = *a;
  sum.add(*a);
  EXPECT_EQ(sum.samples, 6);
  EXPECT_EQ(sum.first_ts, t0 - 2000);
}

}  // namespace
}  // namespace villager::store
