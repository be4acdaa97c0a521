#include <gtest/gtest.h>

#include "base/fs.h"
#include "ci/ci.h"
#include "testutil/temp_dir.h"

namespace villager::ci {
namespace {

const std::string kDev = std::string(kGeneratedMarker) + " from villager.toml\nname: dev\n";
const std::string kRollback = std::string(kGeneratedMarker) + " from villager.toml\nname: rollback\n";

std::vector<GeneratedFile> files() {
  return {{".github/workflows/villager-dev.yml", kDev},
          {".github/workflows/villager-rollback.yml", kRollback}};
}

TEST(FindDrift, WrittenFilesAreInSync) {
  TempDir dir;
  ASSERT_TRUE(write_files(files(), dir.path()).ok());
  auto d = find_drift(files(), dir.path());
  ASSERT_TRUE(d.has_value()) << d.error().message;
  EXPECT_TRUE(d->empty());
}

TEST(FindDrift, AnEditedFileIsChangedWithADiff) {
  TempDir dir;
  ASSERT_TRUE(write_files(files(), dir.path()).ok());
  ASSERT_TRUE(write_file_atomic(dir / ".github/workflows/villager-dev.yml", kDev + "# hand edit\n").ok());
  auto d = find_drift(files(), dir.path()).value();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].path, ".github/workflows/villager-dev.yml");
  EXPECT_EQ(d[0].kind, "changed");
  EXPECT_NE(d[0].diff.find("-# hand edit"), std::string::npos) << d[0].diff;
}

TEST(FindDrift, ADeletedFileIsMissing) {
  TempDir dir;
  ASSERT_TRUE(write_files(files(), dir.path()).ok());
  fs::remove(dir / ".github/workflows/villager-rollback.yml");
  auto d = find_drift(files(), dir.path()).value();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].kind, "missing");
  EXPECT_EQ(d[0].path, ".github/workflows/villager-rollback.yml");
}

TEST(FindDrift, NothingCommittedYetIsAllMissing) {
  TempDir dir;
  auto d = find_drift(files(), dir.path()).value();
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].kind, "missing");
  EXPECT_EQ(d[1].kind, "missing");
}

TEST(FindDrift, AGeneratedFileNoLongerProducedIsStaleButOtherWorkflowsAreLeftAlone) {
  TempDir dir;
  ASSERT_TRUE(write_files(files(), dir.path()).ok());
  ASSERT_TRUE(write_file_atomic(dir / ".github/workflows/villager-production.yml",
                                std::string(kGeneratedMarker) + " from villager.toml\nname: old\n")
                  .ok());
  ASSERT_TRUE(write_file_atomic(dir / ".github/workflows/lint.yml", "name: lint\n").ok());
  auto d = find_drift(files(), dir.path()).value();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].kind, "stale");
  EXPECT_EQ(d[0].path, ".github/workflows/villager-production.yml");
}

}  // namespace
}  // namespace villager::ci
