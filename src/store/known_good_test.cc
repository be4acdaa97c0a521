#include "store/known_good.h"

#include <gtest/gtest.h>

#include "store/test_helpers.h"

namespace villager::store {
namespace {

using testing::digest_of;
using testing::TestStore;

TEST(KnownGood, LatestMarkIsCurrentAndHistoryIsKept) {
  TestStore s;
  auto none = current_known_good(*s, "production", "user");
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());

  ASSERT_TRUE(mark_known_good(*s, {0, "production", "user", digest_of('a'), "v1", 0}));
  ASSERT_TRUE(mark_known_good(*s, {0, "production", "admin", digest_of('c'), "v1", 0}));
  // Same millisecond: the order of marking still decides which is current.
  ASSERT_TRUE(mark_known_good(*s, {0, "production", "user", digest_of('b'), "v2", 0}));

  auto cur = current_known_good(*s, "production", "user");
  ASSERT_TRUE(cur);
  ASSERT_TRUE(cur->has_value());
  EXPECT_EQ((*cur)->digest, digest_of('b'));
  EXPECT_EQ((*cur)->marked_at, s->now_ms());

  auto history = known_good_history(*s, "production", "user");
  ASSERT_TRUE(history);
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[1].version, "v1");
  EXPECT_TRUE(current_known_good(*s, "explorer", "user")->value_or(KnownGood{}).digest.empty());
}

}  // namespace
}  // namespace villager::store
