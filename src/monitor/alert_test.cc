#include "monitor/alert.h"

#include <gtest/gtest.h>

namespace villager::monitor {
namespace {

TEST(Alert, OnlyFiringAndResolvedTransitionsAlert) {
  AlarmTransition t;
  t.alarm.name = "p99";
  t.to = AlarmState::kPending;
  EXPECT_FALSE(alert_for(t).has_value());
  t.to = AlarmState::kFiring;
  ASSERT_TRUE(alert_for(t).has_value());
  EXPECT_EQ(alert_for(t)->state, "firing");
}

}  // namespace
}  // namespace villager::monitor
