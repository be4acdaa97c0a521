#include "artifact/git_info.h"

#include <gtest/gtest.h>

#include "base/fs.h"
#include "base/subprocess.h"
#include "testutil/temp_dir.h"

namespace villager::artifact {
namespace {

void git(const std::filesystem::path& root, std::vector<std::string> args) {
  std::vector<std::string> argv = {"git", "-c", "user.name=t", "-c", "user.email=t@example.invalid"};
  argv.insert(argv.end(), args.begin(), args.end());
  RunOptions opts;
  opts.cwd = root.string();
  auto r = run_process(argv, opts);
  ASSERT_TRUE(r.has_value() && r->exit_code == 0) << (r ? r->err : r.error().message);
}

TEST(GitInfo, OutsideGitIsUnknownAndClean) {
  TempDir t;
  auto info = read_git_info(t.path());
  EXPECT_EQ(info.commit, "unknown");
  EXPECT_FALSE(info.dirty);
}

TEST(GitInfo, RecordsHeadAndDirtinessIgnoringExcludedPaths) {
  TempDir t;
  ASSERT_TRUE(write_file_atomic(t / "a.txt", "one\n").ok());
  git(t.path(), {"init", "-q", "."});
  git(t.path(), {"add", "a.txt"});
  git(t.path(), {"commit", "-qm", "init"});
  RunOptions opts;
  opts.cwd = t.path().string();
  auto head = run_process({"git", "rev-parse", "HEAD"}, opts);
  ASSERT_TRUE(head.has_value());
  auto clean = read_git_info(t.path(), {".villager"});
  EXPECT_EQ(clean.commit + "\n", head->out);
  EXPECT_FALSE(clean.dirty);

  ASSERT_TRUE(ensure_dir(t / ".villager/artifacts").ok());
  ASSERT_TRUE(write_file_atomic(t / ".villager/artifacts/x", "state").ok());
  EXPECT_FALSE(read_git_info(t.path(), {".villager"}).dirty);
  EXPECT_TRUE(read_git_info(t.path()).dirty);

  ASSERT_TRUE(write_file_atomic(t / "a.txt", "two\n").ok());
  EXPECT_TRUE(read_git_info(t.path(), {".villager"}).dirty);
}

}  // namespace
}  // namespace villager::artifact
