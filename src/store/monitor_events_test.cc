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
  EXPECT_EQ(probe_availability(*s, "prod", "user", "", 0)->samples, 4);
}

}  // namespace
}  // namespace villager::store
