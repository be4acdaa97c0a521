#pragma once
// The project's issues-fs list as `villager issues` prints it; shared with `villager status`, which ends
// with it (the release role's rule: "include `issues-fs list` output in every status update").

#include <filesystem>
#include <iosfwd>

#include "cli/args.h"

namespace villager::cli {

// Where to look: the config's folder when a config was named (-c or $VILLAGER_CONFIG) or ./villager.toml
// exists, else the current directory. No valid config is needed.
std::filesystem::path issues_project_root(const Args& args);

// Prints the issues-fs list of every issue under `root` to `out`, and each malformed line as
// "villager: warning: FILE:LINE: message" to stderr. Returns the number of malformed lines, or -1 when
// the issue files could not be read (reported on stderr).
int print_project_issues(std::ostream& out, const std::filesystem::path& root);

}  // namespace villager::cli
