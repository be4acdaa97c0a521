#include "store/step_kinds.h"

#include <gtest/gtest.h>

namespace villager::store {
namespace {

TEST(StepKinds, NamesRoundTrip) {
  for (StepKind k : {StepKind::kRehearsal, StepKind::kStartCandidate, StepKind::kPreTrafficSmoke,
                     StepKind::kShift, StepKind::kPromote, StepKind::kPostTrafficSmoke, StepKind::kWatch,
                     StepKind::kPostRollbackSmoke, StepKind::kStartPrevious, StepKind::kRouteSwap}) {
    ParsedStep p = parse_step(step_name(k, "user"));
    EXPECT_EQ(p.kind, k) << step_kind_name(k);
    EXPECT_EQ(p.arg, "user");
    EXPECT_EQ(parse_step(step_name(k)).arg, "");
  }
}

TEST(StepKinds, TheSpellingsStoredByEarlierReleasesStillParse) {
  // Rows already in users' stores: renaming a kind must not empty their review documents.
  EXPECT_EQ(parse_step("shift:50").kind, StepKind::kShift);
  EXPECT_EQ(parse_step("shift:50").arg, "50");
  EXPECT_EQ(parse_step("start_candidate:admin").kind, StepKind::kStartCandidate);
  EXPECT_EQ(parse_step("post_traffic_smoke").kind, StepKind::kPostTrafficSmoke);
  EXPECT_EQ(parse_step("route_swap").kind, StepKind::kRouteSwap);
  EXPECT_EQ(parse_step("something_newer:x").kind, StepKind::kUnknown);
}

}  // namespace
}  // namespace villager::store
