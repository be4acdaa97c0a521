#include <algorithm>
#include <set>

#include "base/fs.h"
#include "base/strings.h"
#include "ci/ci.h"
#include "ci/line_diff.h"

namespace villager::ci {

namespace {

// Files directly in `dir` that villager generated (they start with the marker).
Result<std::vector<std::string>> generated_files_in(const std::filesystem::path& out_dir,
                                                    const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  std::filesystem::directory_iterator it(out_dir / dir, ec);
  if (ec == std::errc::no_such_file_or_directory) return out;
  if (ec) return Internal("reading " + (out_dir / dir).string() + ": " + ec.message());
  for (const auto& entry : it) {
    if (!entry.is_regular_file()) continue;
    auto text = read_file(entry.path());
    if (text && starts_with(*text, kGeneratedMarker))
      out.push_back(dir + (dir.empty() ? "" : "/") + entry.path().filename().string());
  }
  return out;
}

}  // namespace

Result<std::vector<Drift>> find_drift(const std::vector<GeneratedFile>& files,
                                      const std::filesystem::path& out_dir) {
  std::vector<Drift> drift;
  std::set<std::string> expected, dirs;
  for (const auto& f : files) {
    expected.insert(f.path);
    dirs.insert(std::filesystem::path(f.path).parent_path().generic_string());
    auto committed = read_file(out_dir / f.path);
    if (!committed) {
      drift.push_back({f.path, "missing", ""});
      continue;
    }
    if (*committed != f.text) drift.push_back({f.path, "changed", line_diff(*committed, f.text)});
  }
  for (const auto& dir : dirs) {
    auto found = generated_files_in(out_dir, dir);
    if (!found) return found.error();
    std::sort(found->begin(), found->end());
    for (const auto& path : *found)
      if (!expected.count(path)) drift.push_back({path, "stale", ""});
  }
  return drift;
}

Status write_files(const std::vector<GeneratedFile>& files, const std::filesystem::path& out_dir) {
  for (const auto& f : files) {
    auto path = out_dir / f.path;
    if (auto s = ensure_dir(path.parent_path()); !s.ok())
      return s.error().context("writing " + path.string());
    if (auto s = write_file_atomic(path, f.text); !s.ok())
      return s.error().context("writing " + path.string());
  }
  return Ok();
}

}  // namespace villager::ci
