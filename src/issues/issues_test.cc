#include "issues/issues.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "base/fs.h"
#include "testutil/temp_dir.h"

namespace villager::issues {
namespace {

const fs::path kTestdata = fs::path(VILLAGER_ISSUES_TESTDATA);

std::string read_testdata(const std::string& name) {
  auto text = read_file(kTestdata / name);
  EXPECT_TRUE(text) << text.error().message;
  return text ? *text : "";
}

// Compares with a golden file; VILLAGER_UPDATE_GOLDEN=1 rewrites it instead (then review the diff).
void expect_golden(const std::string& actual, const std::string& golden) {
  if (std::getenv("VILLAGER_UPDATE_GOLDEN")) {
    ASSERT_TRUE(write_file_atomic(kTestdata / golden, actual).ok());
    return;
  }
  EXPECT_EQ(actual, read_testdata(golden)) << "golden file " << golden;
}

std::string problems_text(const IssueList& list) {
  std::string out;
  for (const auto& p : list.problems) out += p.to_string() + "\n";
  return out;
}

TEST(IssueType, FromLabelPrefix) {
  EXPECT_EQ(issue_type("Task-3"), "task");
  EXPECT_EQ(issue_type("User-Journey-2"), "user-journey");
  EXPECT_EQ(issue_type("Bug-12345"), "bug");
  EXPECT_EQ(issue_type("Bug-123456"), "");
  EXPECT_EQ(issue_type("Workstream-V1"), "");
  EXPECT_EQ(issue_type("Task"), "");
  EXPECT_EQ(issue_type("-3"), "");
}

TEST(ParseIssues, NestedTabsAndSpacesGiveParentsAndDepths) {
  IssueList list = parse_issues(read_testdata("nested.issues"), "nested.issues");
  EXPECT_TRUE(list.problems.empty()) << problems_text(list);
  ASSERT_EQ(list.issues.size(), 9u);
  EXPECT_EQ(list.issues[0].label, "Workstream-1");
  EXPECT_EQ(list.issues[0].depth, 0);
  EXPECT_EQ(list.issues[3].label, "Bug-7");
  EXPECT_EQ(list.issues[3].depth, 2);
  EXPECT_EQ(list.issues[3].parent, "Task-2");
  EXPECT_EQ(list.issues[3].line, 5);
  // The comment line between them does not end Workstream-1's children.
  EXPECT_EQ(list.issues[4].label, "Task-3");
  EXPECT_EQ(list.issues[4].parent, "Workstream-1");
  // Only the first two '|' split: the rest stays in the description.
  EXPECT_EQ(list.issues[4].title, "Set up production Lambda functions (user and admin) | QA -> Task-1");
  EXPECT_EQ(list.issues[6].label, "Task-12");
  EXPECT_EQ(list.issues[6].parent, "Workstream-V1");  // four spaces = one level
  EXPECT_EQ(list.issues[7].parent, "Task-12");        // eight spaces = two levels
  EXPECT_EQ(list.issues[8].depth, 0);
  EXPECT_EQ(list.issues[8].type, "user-journey");
}

TEST(ParseIssues, CommentsAndBlankLinesOnly) {
  IssueList list = parse_issues(read_testdata("commented.issues"), "commented.issues");
  EXPECT_TRUE(list.issues.empty());
  EXPECT_TRUE(list.problems.empty());
  EXPECT_EQ(format_issue_list(list.issues), "No issues found.\n");
}

TEST(ParseIssues, MalformedLinesAreReportedWithFileAndLineAndGoodLinesKept) {
  IssueList list = parse_issues(read_testdata("malformed.issues"), "malformed.issues");
  expect_golden(problems_text(list), "malformed.problems.txt");
  std::vector<std::string> labels;
  for (const auto& i : list.issues) labels.push_back(i.label);
  EXPECT_EQ(labels, (std::vector<std::string>{"Task-1", "Task-4", "Task-5", "Task-6", "Task-7", "Task-1"}));
  // Over-indented by two levels: attached to the last issue one level up, not dropped.
  EXPECT_EQ(list.issues[4].parent, "Task-6");
  EXPECT_EQ(list.issues[4].depth, 1);
}

TEST(FormatIssueList, MatchesIssuesFsList) {
  IssueList list = parse_issues(read_testdata("nested.issues"), "nested.issues");
  expect_golden(format_issue_list(list.issues), "nested.list.txt");
}

TEST(FilterIssues, ByStatusAndType) {
  IssueList list = parse_issues(read_testdata("nested.issues"), "nested.issues");
  auto todo = filter_issues(list.issues, {"TODO", ""});
  ASSERT_EQ(todo.size(), 2u);
  EXPECT_EQ(todo[0].label, "Task-1");
  EXPECT_EQ(filter_issues(list.issues, {"", "task"}).size(), 4u);
  EXPECT_EQ(filter_issues(list.issues, {"blocked", "task"}).size(), 1u);
  EXPECT_TRUE(filter_issues(list.issues, {"done", "bug"}).empty());
}

TEST(FindIssueFiles, NearestIssuesFolderUpwardsPlusDevopsFolder) {
  TempDir t;
  ASSERT_TRUE(ensure_dir(t / "repo/.issues/sub").ok());
  ASSERT_TRUE(ensure_dir(t / "repo/app/deep").ok());
  ASSERT_TRUE(ensure_dir(t / "repo/team/villager/roles/devops/.issues").ok());
  ASSERT_TRUE(ensure_dir(t / ".issues").ok());  // farther up: not read, the nearest wins
  ASSERT_TRUE(write_file_atomic(t / "repo/.issues/b.issues", "Task-2 | todo | b\n").ok());
  ASSERT_TRUE(write_file_atomic(t / "repo/.issues/sub/a.issues", "Task-1 | todo | a\n").ok());
  ASSERT_TRUE(write_file_atomic(t / "repo/.issues/notes.md", "not an issues file\n").ok());
  ASSERT_TRUE(write_file_atomic(t / ".issues/far.issues", "Task-9 | todo | far\n").ok());
  ASSERT_TRUE(write_file_atomic(t / "repo/team/villager/roles/devops/.issues/workstream.issues",
                                "Task-3 | todo | c\n")
                  .ok());
  auto files = find_issue_files(t / "repo/app/deep", t / "repo");
  ASSERT_TRUE(files) << files.error().message;
  std::vector<std::string> names;
  for (const auto& f : *files) names.push_back(f.filename().string());
  EXPECT_EQ(names, (std::vector<std::string>{"b.issues", "a.issues", "workstream.issues"}));

  // Started inside the devops folder's project: the same file is not listed twice.
  auto again = find_issue_files(t / "repo/team/villager/roles/devops", t / "repo");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->size(), 1u);
}

TEST(LoadIssues, DuplicateLabelsAcrossFilesAreProblems) {
  TempDir t;
  ASSERT_TRUE(write_file_atomic(t / "a.issues", "Task-1 | todo | a\n").ok());
  ASSERT_TRUE(write_file_atomic(t / "b.issues", "# b\nTask-1 | done | b\n").ok());
  auto list = load_issues({t / "a.issues", t / "b.issues"});
  ASSERT_TRUE(list) << list.error().message;
  EXPECT_EQ(list->issues.size(), 2u);
  ASSERT_EQ(list->problems.size(), 1u);
  EXPECT_EQ(list->problems[0].line, 2);
  EXPECT_NE(list->problems[0].message.find("first at " + (t / "a.issues").string() + ":1"),
            std::string::npos);

  auto missing = load_issues({t / "nope.issues"});
  EXPECT_FALSE(missing);
}

}  // namespace
}  // namespace villager::issues
