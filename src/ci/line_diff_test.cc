#include "ci/line_diff.h"

#include <gtest/gtest.h>

namespace villager::ci {
namespace {

TEST(LineDiff, SameTextHasNoDiff) {
  EXPECT_EQ(line_diff("a\nb\n", "a\nb\n"), "");
}

TEST(LineDiff, ChangedLineShowsRemovedAndAddedWithContext) {
  EXPECT_EQ(line_diff("a\nb\nc\nd\n", "a\nB\nc\nd\n"), "@@ line 1 @@\n a\n-b\n+B\n c\n");
}

TEST(LineDiff, AddedLineAtTheEnd) {
  EXPECT_EQ(line_diff("a\nb\n", "a\nb\nc\n"), "@@ line 2 @@\n b\n+c\n");
}

TEST(LineDiff, SeparateHunksEachGetAHeader) {
  std::string diff = line_diff("1\n2\n3\n4\n5\n6\n7\n", "1\nX\n3\n4\n5\nY\n7\n");
  EXPECT_EQ(diff, "@@ line 1 @@\n 1\n-2\n+X\n 3\n@@ line 5 @@\n 5\n-6\n+Y\n 7\n");
}

TEST(LineDiff, LongDiffsAreCut) {
  std::string before, after;
  for (int i = 0; i < 50; ++i) {
    before += "old" + std::to_string(i) + "\n";
    after += "new" + std::to_string(i) + "\n";
  }
  std::string diff = line_diff(before, after, 10);
  EXPECT_NE(diff.find("... (90 more changed lines)"), std::string::npos) << diff;
}

}  // namespace
}  // namespace villager::ci
