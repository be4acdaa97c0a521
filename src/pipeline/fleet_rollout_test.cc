#include "pipeline/fleet_rollout.h"

#include <gtest/gtest.h>

namespace villager::pipeline {

namespace {

using Batches = std::vector<std::vector<size_t>>;

TEST(PlanBatches, CountsSplitTheFleetInOrderWithARemainder) {
  EXPECT_EQ(plan_batches(4, {1, false}), (Batches{{0}, {1}, {2}, {3}}));
  EXPECT_EQ(plan_batches(5, {2, false}), (Batches{{0, 1}, {2, 3}, {4}}));
  EXPECT_EQ(plan_batches(3, {10, false}), (Batches{{0, 1, 2}}));
}

TEST(PlanBatches, PercentagesRoundUpAndNeverMakeAnEmptyBatch) {
  EXPECT_EQ(plan_batches(4, {25, true}), (Batches{{0}, {1}, {2}, {3}}));
  EXPECT_EQ(plan_batches(8, {30, true}), (Batches{{0, 1, 2}, {3, 4, 5}, {6, 7}}));
  EXPECT_EQ(plan_batches(3, {1, true}), (Batches{{0}, {1}, {2}}));
  EXPECT_EQ(plan_batches(4, {100, true}), (Batches{{0, 1, 2, 3}}));
}

TEST(PlanBatches, AnEmptyFleetHasNoBatches) {
  EXPECT_TRUE(plan_batches(0, {1, false}).empty());
}

}  // namespace

}  // namespace villager::pipeline
