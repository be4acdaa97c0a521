#include "pipeline/build_step.h"

#include <gtest/gtest.h>

#include "base/fs.h"
#include "base/strings.h"
#include "testutil/temp_dir.h"

namespace villager::pipeline {

namespace {
config::Config project_in(const std::filesystem::path& root) {
  config::Config c;
  c.root = root;
  return c;
}
}  // namespace

TEST(BuildStep, TailKeepsTheLastLines) {
  EXPECT_EQ(tail_lines("a\nb\nc\n", 2), "b\nc");
  EXPECT_EQ(tail_lines("a\nb\n\n\n", 5), "a\nb");
  EXPECT_EQ(tail_lines("", 3), "");
  EXPECT_EQ(tail_lines("one", 1), "one");
}

TEST(BuildStep, RunsInTheProjectRootWithOnlyTheRecordedEnvironment) {
  TempDir dir;
  ::setenv("VILLAGER_BUILD_TEST_LEAK", "must-not-reach-the-build", 1);
  config::ServiceConfig s;
  s.name = "user";
  s.build = {"sh", "-c", "pwd; env | sort; echo made > made.txt"};
  s.build_tools = {"sh -c true", "no-such-tool-here --version"};
  auto rec = run_build(project_in(dir.path()), s);
  ::unsetenv("VILLAGER_BUILD_TEST_LEAK");
  ASSERT_TRUE(rec.has_value()) << rec.error().message;
  EXPECT_EQ(rec->exit_code, 0);
  EXPECT_EQ(rec->command, s.build);
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "made.txt"));
  EXPECT_NE(rec->output_tail.find(dir.path().string()), std::string::npos) << rec->output_tail;
  EXPECT_EQ(rec->output_tail.find("VILLAGER_BUILD_TEST_LEAK"), std::string::npos) << rec->output_tail;
  EXPECT_NE(rec->output_tail.find("PYTHONDONTWRITEBYTECODE=1"), std::string::npos) << rec->output_tail;
  EXPECT_NE(rec->output_tail.find("LANG=C.UTF-8"), std::string::npos) << rec->output_tail;
  std::vector<std::string> names;
  for (const auto& [k, v] : rec->env) names.push_back(k);
  EXPECT_EQ(names, (std::vector<std::string>{"HOME", "LANG", "PATH", "PYTHONDONTWRITEBYTECODE",
                                             "SOURCE_DATE_EPOCH"}));
  ASSERT_EQ(rec->tools.size(), 2u);
  EXPECT_EQ(rec->tools[0].version, "");
  EXPECT_TRUE(starts_with(rec->tools[1].version, "exit 127")) << rec->tools[1].version;
}

TEST(BuildStep, AFailingBuildNamesItsExitCodeAndLastOutput) {
  TempDir dir;
  config::ServiceConfig s;
  s.name = "admin";
  s.build = {"sh", "-c", "for i in $(seq 1 30); do echo line$i; done; echo broke >&2; exit 7"};
  auto rec = run_build(project_in(dir.path()), s);
  ASSERT_FALSE(rec.has_value());
  const std::string& m = rec.error().message;
  EXPECT_NE(m.find("service admin: build `sh -c"), std::string::npos) << m;
  EXPECT_NE(m.find("failed with exit code 7"), std::string::npos) << m;
  EXPECT_NE(m.find("line30\nbroke"), std::string::npos) << m;
  EXPECT_EQ(m.find("line10\n"), std::string::npos) << m;  // only the last kBuildTailLines lines
}

TEST(BuildStep, ABuildThatCannotStartIsAnError) {
  TempDir dir;
  config::ServiceConfig s;
  s.name = "user";
  s.build = {"/nonexistent/build-tool"};
  auto rec = run_build(project_in(dir.path()), s);
  ASSERT_FALSE(rec.has_value());
  EXPECT_NE(rec.error().message.find("exit code 127"), std::string::npos) << rec.error().message;
  EXPECT_NE(rec.error().message.find("cannot run /nonexistent/build-tool"), std::string::npos)
      << rec.error().message;
}

TEST(BuildStep, NoBuildIsAnEmptyRecord) {
  TempDir dir;
  config::ServiceConfig s;
  auto rec = run_build(project_in(dir.path()), s);
  ASSERT_TRUE(rec.has_value());
  EXPECT_TRUE(rec->command.empty());
}

}  // namespace villager::pipeline
