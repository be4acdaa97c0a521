#include "issues/issues.h"

#include <algorithm>
#include <map>
#include <set>
#include <system_error>

#include "base/fs.h"
#include "base/strings.h"

namespace villager::issues {

namespace {

// issues-fs's own limits: a label's number has at most five digits; a level is one tab or four spaces.
constexpr size_t kMaxLabelDigits = 5;
constexpr size_t kSpacesPerLevel = 4;
// `issues-fs list` column widths and title cut.
constexpr size_t kLabelWidth = 15;
constexpr size_t kTypeWidth = 12;
constexpr size_t kStatusWidth = 15;
constexpr size_t kTitleChars = 50;
constexpr std::string_view kDevopsIssuesDir = "team/villager/roles/devops/.issues";

std::string pad(std::string_view s, size_t width) {
  std::string out(s);
  if (out.size() < width) out.append(width - out.size(), ' ');
  return out;
}

// The first `n` characters of UTF-8 text (a character is a lead byte and its continuation bytes).
std::string first_chars(std::string_view s, size_t n) {
  size_t chars = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (chars == n) return std::string(s.substr(0, i));
      ++chars;
    }
  }
  return std::string(s);
}

// Every *.issues file under `dir`, sorted; nothing when `dir` does not exist.
Result<std::vector<fs::path>> issue_files_under(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return std::vector<fs::path>{};
  auto rel = list_files(dir);
  if (!rel) return rel.error().context("listing " + dir.string());
  std::vector<fs::path> out;
  for (const auto& r : *rel)
    if (ends_with(r, ".issues")) out.push_back(dir / r);
  return out;
}

}  // namespace

std::string Problem::to_string() const {
  if (file.empty()) return message;
  return file + (line > 0 ? ":" + std::to_string(line) : "") + ": " + message;
}

std::string issue_type(std::string_view label) {
  size_t dash = label.rfind('-');
  if (dash == std::string_view::npos || dash == 0) return "";
  std::string_view digits = label.substr(dash + 1);
  if (digits.empty() || digits.size() > kMaxLabelDigits) return "";
  for (char c : digits)
    if (c < '0' || c > '9') return "";
  return to_lower(label.substr(0, dash));
}

IssueList parse_issues(std::string_view text, const std::string& file) {
  IssueList out;
  std::vector<std::string> parents;  // parents[d] = label of the last issue at depth d
  std::set<std::string> seen;
  int line_no = 0;
  for (std::string raw : split(text, '\n')) {
    ++line_no;
    if (!raw.empty() && raw.back() == '\r') raw.pop_back();
    std::string_view line = raw;
    std::string_view body = trim(line);
    if (body.empty() || body.front() == '#') continue;
    auto problem = [&](std::string message) { out.problems.push_back({file, line_no, std::move(message)}); };

    size_t tabs = 0, spaces = 0, i = 0;
    for (; i < line.size() && (line[i] == '\t' || line[i] == ' '); ++i) (line[i] == '\t' ? tabs : spaces)++;
    if (tabs > 0 && spaces > 0)
      problem("indentation mixes tabs and spaces");
    else if (spaces % kSpacesPerLevel != 0)
      problem("indentation of " + std::to_string(spaces) + (spaces == 1 ? " space" : " spaces") +
              " is not a multiple of 4");
    int depth = static_cast<int>(tabs + spaces / kSpacesPerLevel);

    // Split on the first two '|' only: a description may hold more.
    size_t p1 = body.find('|');
    size_t p2 = p1 == std::string_view::npos ? p1 : body.find('|', p1 + 1);
    if (p2 == std::string_view::npos) {
      problem("expected format: label | status | description");
      continue;
    }
    Issue issue;
    issue.label = std::string(trim(body.substr(0, p1)));
    issue.status = std::string(trim(body.substr(p1 + 1, p2 - p1 - 1)));
    issue.title = std::string(trim(body.substr(p2 + 1)));
    if (issue.label.empty()) {
      problem("label is empty");
      continue;
    }
    if (issue.status.empty()) {
      problem("status is empty (" + issue.label + ")");
      continue;
    }
    if (depth > static_cast<int>(parents.size())) {
      problem(issue.label + " is indented " + std::to_string(depth) + " levels but its parent is at level " +
              std::to_string(static_cast<int>(parents.size()) - 1));
      depth = static_cast<int>(parents.size());
    }
    parents.resize(depth);
    if (!seen.insert(issue.label).second) problem("duplicate label " + issue.label);
    issue.type = issue_type(issue.label);
    issue.parent = depth > 0 ? parents[depth - 1] : "";
    issue.depth = depth;
    issue.file = file;
    issue.line = line_no;
    parents.push_back(issue.label);
    out.issues.push_back(std::move(issue));
  }
  return out;
}

Result<std::vector<fs::path>> find_issue_files(const fs::path& start, const fs::path& project_root) {
  std::error_code ec;
  std::vector<fs::path> dirs;
  fs::path dir = fs::absolute(start, ec);
  if (ec) return InvalidArgument("resolving " + start.string() + ": " + ec.message());
  for (;;) {
    if (fs::is_directory(dir / ".issues", ec)) {
      dirs.push_back(dir / ".issues");
      break;
    }
    if (!dir.has_parent_path() || dir.parent_path() == dir) break;
    dir = dir.parent_path();
  }
  if (!project_root.empty()) dirs.push_back(fs::absolute(project_root, ec) / kDevopsIssuesDir);

  std::vector<fs::path> out;
  std::set<fs::path> seen;
  for (const auto& d : dirs) {
    auto files = issue_files_under(d);
    if (!files) return files.error();
    for (const auto& f : *files) {
      fs::path key = fs::weakly_canonical(f, ec);
      if (seen.insert(ec ? f : key).second) out.push_back(f);
    }
  }
  return out;
}

Result<IssueList> load_issues(const std::vector<fs::path>& files) {
  IssueList out;
  std::map<std::string, std::string> first_seen;  // label -> "file:line"
  for (const auto& f : files) {
    auto text = read_file(f);
    if (!text) return text.error().context("reading issues");
    IssueList one = parse_issues(*text, f.string());
    for (auto& issue : one.issues) {
      std::string where = issue.file + ":" + std::to_string(issue.line);
      auto [it, inserted] = first_seen.emplace(issue.label, where);
      if (!inserted && it->second.rfind(issue.file + ":", 0) != 0)
        out.problems.push_back(
            {issue.file, issue.line, "duplicate label " + issue.label + " (first at " + it->second + ")"});
      out.issues.push_back(std::move(issue));
    }
    for (auto& p : one.problems) out.problems.push_back(std::move(p));
  }
  return out;
}

std::vector<Issue> filter_issues(const std::vector<Issue>& issues, const IssueFilter& filter) {
  std::vector<Issue> out;
  std::string status = to_lower(filter.status), type = to_lower(filter.type);
  for (const auto& i : issues) {
    if (!status.empty() && to_lower(i.status) != status) continue;
    if (!type.empty() && i.type != type) continue;
    out.push_back(i);
  }
  return out;
}

std::string format_issue_list(const std::vector<Issue>& issues) {
  if (issues.empty()) return "No issues found.\n";
  auto row = [](std::string_view label, std::string_view type, std::string_view status,
                std::string_view title) {
    return pad(label, kLabelWidth) + " " + pad(type, kTypeWidth) + " " + pad(status, kStatusWidth) + " " +
           first_chars(title, kTitleChars);
  };
  std::string header = row("Label", "Type", "Status", "Title");
  std::string rule;
  for (size_t i = 0; i < header.size(); ++i) rule += "\u2500";
  std::string out = header + "\n" + rule + "\n";
  for (const auto& i : issues) out += row(i.label, i.type, i.status, i.title) + "\n";
  out += "\nTotal: " + std::to_string(issues.size()) + "\n";
  return out;
}

}  // namespace villager::issues
