#pragma once
// File-system helpers. Writes that must survive a crash go through write_file_atomic (write a temp file,
// fsync, rename, fsync the directory), so a reader sees the old content or the new, never half.

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace villager {

namespace fs = std::filesystem;

Result<std::string> read_file(const fs::path& path);
Status write_file_atomic(const fs::path& path, std::string_view content, fs::perms mode = fs::perms(0644));
// Appends with O_APPEND, creating the file with `mode`: a line written in one call is never interleaved
// with another writer's (the release channel and alert files rely on it).
Status append_file(const fs::path& path, std::string_view content, fs::perms mode = fs::perms(0644));
Status ensure_dir(const fs::path& path, fs::perms mode = fs::perms(0755));
// Regular files under `root`, recursively, as paths relative to root, sorted bytewise.
Result<std::vector<std::string>> list_files(const fs::path& root);
// A fresh directory under the system temp dir; the caller removes it.
Result<fs::path> make_temp_dir(std::string_view prefix);

}  // namespace villager
