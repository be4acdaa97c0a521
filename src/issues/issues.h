#pragma once
// issues-fs flat files: `*.issues` text files under `.issues/` folders, one `Label | status | description`
// per line (split on the first two `|`), children indented by one tab or four spaces per level, `#`
// comments and blank lines ignored. This module parses them, finds them for a project and prints them as
// `issues-fs list` does. A malformed line is never fatal: it is reported as a Problem with file and line,
// and every good line is still returned.
//
//   auto files = issues::find_issue_files(config_root);
//   auto list = issues::load_issues(files);          // list->issues, list->problems
//   std::cout << issues::format_issue_list(issues::filter_issues(list->issues, {"todo", ""}));

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace villager::issues {

struct Issue {
  std::string label;   // "Task-3"
  std::string type;    // from the label prefix: "task"; "" when the label has no "-<1..5 digits>" suffix
  std::string status;  // as written: "todo"
  std::string title;   // the description: everything after the second '|', trimmed
  std::string parent;  // label of the enclosing issue, "" at the top level
  int depth = 0;       // indentation level
  std::string file;    // where it was read
  int line = 0;        // 1-based
};

struct Problem {
  std::string file;
  int line = 0;  // 0 when the problem is about the whole file
  std::string message;
  std::string to_string() const;  // "FILE:LINE: message"
};

struct IssueList {
  std::vector<Issue> issues;  // in file order
  std::vector<Problem> problems;
};

// The type issues-fs derives from a label: the part before a trailing "-<1..5 digits>", lower-cased
// ("User-Journey-2" -> "user-journey"); "" when there is no such suffix ("Workstream-V1").
std::string issue_type(std::string_view label);

// Parses one file's text. `file` names it in issues and problems. Problems reported: fewer than three
// fields, empty label, empty status, indentation mixing tabs and spaces, spaces not a multiple of four,
// a line indented more than one level below the previous issue, a duplicate label within the text.
IssueList parse_issues(std::string_view text, const std::string& file);

// The issue files of a project: every `*.issues` under the nearest `.issues/` folder found walking up
// from `start` (start itself first), plus every `*.issues` under
// `<project_root>/team/villager/roles/devops/.issues/`, each file once, sorted within a folder.
// A missing folder is not an error; an unreadable one is.
Result<std::vector<std::filesystem::path>> find_issue_files(const std::filesystem::path& start,
                                                            const std::filesystem::path& project_root);

// Reads and parses every file; labels duplicated across files are problems too. Fails only when a file
// cannot be read.
Result<IssueList> load_issues(const std::vector<std::filesystem::path>& files);

struct IssueFilter {
  std::string status;  // "" = any; compared case-insensitively
  std::string type;    // "" = any; compared case-insensitively
};
std::vector<Issue> filter_issues(const std::vector<Issue>& issues, const IssueFilter& filter);

// The `issues-fs list` table: a "Label Type Status Title" header (15/12/15 columns), a rule of '─' as long
// as the header, one row per issue (title cut to 50 characters), a blank line and "Total: N"; or
// "No issues found." when there are none. Ends with a newline.
std::string format_issue_list(const std::vector<Issue>& issues);

}  // namespace villager::issues
