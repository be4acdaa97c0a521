#pragma once
// Which commit a package was built from, and whether the work tree had uncommitted changes.

#include <filesystem>
#include <string>
#include <vector>

namespace villager::artifact {

struct GitInfo {
  std::string commit = "unknown";
  bool dirty = false;
};

// `git rev-parse HEAD` and `git status --porcelain` in `root`, ignoring `exclude` paths (relative to root,
// such as the state dir, which villager itself writes). Not a git repository, or no git on PATH, gives
// {"unknown", false}: packaging outside git is allowed, the manifest just says so.
GitInfo read_git_info(const std::filesystem::path& root, const std::vector<std::string>& exclude = {});

}  // namespace villager::artifact
