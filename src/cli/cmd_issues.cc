#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>

#include "base/redact.h"
#include "cli/commands.h"
#include "cli/issues_view.h"
#include "cli/project.h"
#include "issues/issues.h"

namespace villager::cli {

namespace {

using json = nlohmann::json;

constexpr std::string_view kHelp = R"(usage: villager issues [list] [--status S] [--type T] [--json]

Lists the project's issues from issues-fs flat files, as `issues-fs list` prints them: every
*.issues file under the nearest .issues/ folder (walking up from the project folder) and under
team/villager/roles/devops/.issues/. One `Label | status | description` per line, children
indented by a tab or four spaces, `#` comments. The type comes from the label (Task-3 -> task).
Malformed lines are reported on stderr with file and line, and the command then exits 1.
No valid villager.toml is needed: the project folder is the config's folder if there is one,
else the current directory.

options:
  --status S         only issues with status S (todo, in-progress, done, ...)
  --type T           only issues of type T (task, bug, workstream, ...)
  -c, --config FILE  the config file whose folder is the project (default ./villager.toml)
  --json             print JSON: {"issues": [{label, type, status, title, parent, depth, file,
                     line}], "total": N, "problems": [{file, line, message}]}
)";

struct Loaded {
  std::vector<issues::Issue> issues;
  std::vector<issues::Problem> problems;
};

Result<Loaded> load(const std::filesystem::path& root) {
  auto files = issues::find_issue_files(root, root);
  if (!files) return files.error().context("finding issue files");
  auto list = issues::load_issues(*files);
  if (!list) return list.error();
  return Loaded{list->issues, list->problems};
}

void warn(const std::vector<issues::Problem>& problems) {
  for (const auto& p : problems) std::cerr << redact("villager: warning: " + p.to_string()) << "\n";
}

int run_issues(const std::vector<std::string>& argv) {
  auto args = Args::parse(argv, {kConfigFlag, {"status", true}, {"type", true}, {"json"}});
  if (!args) return report_error(args.error(), kExitUsage);
  if (args->help()) return print_help(kHelp);
  const auto& pos = args->positionals();
  if (pos.size() > 1 || (pos.size() == 1 && pos[0] != "list"))
    return report_error("unknown issues subcommand '" + pos.back() + "' (only 'list')", kExitUsage);
  auto loaded = load(issues_project_root(*args));
  if (!loaded) return report_error(loaded.error(), kExitFailed);
  auto shown = issues::filter_issues(loaded->issues, {args->get("status"), args->get("type")});
  if (args->has("json")) {
    json items = json::array(), problems = json::array();
    for (const auto& i : shown)
      items.push_back({{"label", i.label},
                       {"type", i.type},
                       {"status", i.status},
                       {"title", i.title},
                       {"parent", i.parent},
                       {"depth", i.depth},
                       {"file", i.file},
                       {"line", i.line}});
    for (const auto& p : loaded->problems)
      problems.push_back({{"file", p.file}, {"line", p.line}, {"message", p.message}});
    std::cout << redact(json{{"issues", items}, {"total", shown.size()}, {"problems", problems}}.dump(2))
              << "\n";
  } else {
    std::cout << redact(issues::format_issue_list(shown));
  }
  warn(loaded->problems);
  return loaded->problems.empty() ? kExitOk : kExitFailed;
}

}  // namespace

std::filesystem::path issues_project_root(const Args& args) {
  std::error_code ec;
  std::filesystem::path file = config_path(args);
  bool named = args.has("config") || std::getenv("VILLAGER_CONFIG");
  if (named || std::filesystem::exists(file, ec)) {
    std::filesystem::path abs = std::filesystem::absolute(file, ec);
    if (!ec) return abs.parent_path();
  }
  return std::filesystem::current_path(ec);
}

int print_project_issues(std::ostream& out, const std::filesystem::path& root) {
  auto loaded = load(root);
  if (!loaded) {
    std::cerr << redact("villager: warning: " + loaded.error().message) << "\n";
    return -1;
  }
  out << redact(issues::format_issue_list(loaded->issues));
  warn(loaded->problems);
  return static_cast<int>(loaded->problems.size());
}

const Command kIssuesCommand = {"issues", "the project's issues-fs issues, as `issues-fs list` prints them",
                                kHelp, run_issues};

}  // namespace villager::cli
