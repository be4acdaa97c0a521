#pragma once
// Deterministic packaging: a build directory becomes a zip whose bytes depend only on the files' relative
// paths, contents and owner-executable bits — never on mtimes, walk order, umask, owner, host or time
// zone — so the same tree packs to the same sha256 on any machine with the same libarchive and zlib.
// Rules (docs/artifact.md): regular files only, sorted bytewise by path; Python bytecode caches
// (__pycache__ directories, *.pyc, *.pyo) are left out; directories are not stored (an
// empty directory is therefore dropped); symlinks and special files are refused with an error naming
// them; every entry has mtime = SOURCE_DATE_EPOCH (or 1980-01-01T00:00:02Z), rounded down to even
// seconds, uid/gid 0, no user/group names, mode 0755 when the owner-exec bit is set, else 0644;
// deflate at level kZipDeflateLevel; DOS times are computed in UTC.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "artifact/git_info.h"
#include "artifact/manifest.h"
#include "base/error.h"

namespace villager::artifact {

// 1980-01-01T00:00:02Z: the earliest even-second DOS time, used when SOURCE_DATE_EPOCH is unset.
inline constexpr int64_t kDefaultZipMtime = 315532802;
inline constexpr int kZipDeflateLevel = 6;

struct ZipOptions {
  bool reverse_walk = false;     // list each directory in reverse order (--check's second pack)
  bool touch_mtimes = false;     // pack a scratch copy whose mtimes are "now" and perms narrowed (--check)
  std::optional<int64_t> mtime;  // unset: SOURCE_DATE_EPOCH from the environment, else kDefaultZipMtime
};

struct PackedZip {
  std::string bytes;
  Digest digest;
  int64_t mtime = 0;
  std::vector<ManifestFile> files;  // sorted by path
};

// Packs `dir` into an in-memory zip. A missing dir is NotFound; a dir with no regular files, a symlink or
// a special file inside is InvalidArgument naming the path.
Result<PackedZip> build_zip(const std::filesystem::path& dir, const ZipOptions& opts = {});

// The timestamp entries get: SOURCE_DATE_EPOCH if set (an integer, clamped to the DOS range and rounded
// down to even seconds), else kDefaultZipMtime. A malformed value is InvalidArgument.
Result<int64_t> zip_mtime_from_env();

struct PackRequest {
  std::filesystem::path dir;  // the service's build directory
  std::string service;
  std::string version;
  GitInfo git;
  std::filesystem::path store_dir;  // <state_dir>/artifacts
  ZipOptions zip;
  std::optional<BuildRecord> build;    // recorded in the manifest
  std::vector<PythonDep> python_deps;  // recorded in the manifest
};

struct PackResult {
  Digest digest;
  std::filesystem::path zip_path;
  std::filesystem::path manifest_path;
  Manifest manifest;
  bool already_stored = false;  // the same digest was in the store: nothing was written
};

// Packs and stores the zip and its manifest atomically (zip first, manifest last). Storing a digest
// that is already present is a no-op that keeps the first manifest.
Result<PackResult> pack_directory(const PackRequest& req);

// Stores an already built zip the same way pack_directory does.
Result<PackResult> store_zip(const PackedZip& zip, const PackRequest& req);

}  // namespace villager::artifact
