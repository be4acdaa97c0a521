#pragma once
// Python distributions in a folder (docs/python.md, "Vendored dependencies"): reading their metadata
// (`*.dist-info` with METADATA and RECORD, or Debian's `*.egg-info` with PKG-INFO and top_level.txt),
// the files each owns and its hash, and copying installed ones (Debian's /usr/lib/python3/dist-packages)
// into an artifact. Nothing here reaches the network.

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "artifact/manifest.h"
#include "base/error.h"

namespace villager::artifact {

// Where Debian's python3-* packages install (the `from = "system"` source).
inline const std::filesystem::path kDebianDistPackages = "/usr/lib/python3/dist-packages";

// PEP 503: lower case, each run of '-', '_' and '.' one '-' ("Typing_Extensions" -> "typing-extensions").
std::string normalize_distribution_name(std::string_view name);

// One line of a pinned requirements file: `name` or `name==version`.
struct Requirement {
  std::string name;
  std::string version;  // "" = any
  int line = 0;
};
// A requirements file for the system source: one `name` or `name==version` per line, `#` comments and
// blank lines ignored. Anything else (ranges, extras, markers, pip options) is InvalidArgument naming
// `source`:LINE; so is a name listed twice.
Result<std::vector<Requirement>> parse_pinned_requirements(std::string_view text, const std::string& source);

// A distribution found in a folder, with the files it owns (relative to the folder, sorted, bytecode
// left out): the metadata folder's own files, and for dist-info what RECORD lists that exists inside
// the folder, for egg-info every file of the modules top_level.txt names (a package folder,
// `name.py`, `name.*.so`).
struct Distribution {
  std::string name;      // from Name: in METADATA / PKG-INFO
  std::string version;   // from Version:
  std::string meta_dir;  // "fastapi-0.92.0.dist-info"
  std::vector<std::string> files;
};
// Every distribution whose metadata sits at the top of `dir`, sorted by normalized name. Metadata
// without Name and Version, or an egg-info without top_level.txt, is InvalidArgument naming the file.
Result<std::vector<Distribution>> find_distributions(const std::filesystem::path& dir);

// The manifest's view of `dir`'s distributions: name, version, the hash over their files (see PythonDep).
Result<std::vector<PythonDep>> list_python_deps(const std::filesystem::path& dir);

// Copies each required distribution installed in `site_dir` into `target` (created), keeping relative
// paths and the owner-exec bit. A distribution that is not installed, or at another version than
// pinned, is NotFound / FailedPrecondition naming `source`:LINE; every problem is reported at once.
Status copy_installed_distributions(const std::vector<Requirement>& requirements,
                                    const std::filesystem::path& site_dir,
                                    const std::filesystem::path& target, const std::string& source);

}  // namespace villager::artifact
