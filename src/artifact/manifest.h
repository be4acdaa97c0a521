#pragma once
// The artifact store and its manifests. An artifact is `<store>/sha256/<hex>.zip`, named by the SHA-256 of
// its bytes, beside `<hex>.json`, its manifest (what went in: service, version, git commit, every file).
// `<store>` is `<state_dir>/artifacts`. verify_artifact() is what deploy and the gate call before they
// trust an artifact: the bytes must still hash to the name.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "base/error.h"

namespace villager::artifact {

struct ManifestFile {
  std::string path;    // relative, '/'-separated, as stored in the zip
  std::string sha256;  // hex of the file's content
  uint64_t size = 0;
  uint32_t mode = 0644;  // 0644 or 0755
};

struct Manifest {
  std::string digest;  // "sha256:<hex>" of the zip bytes
  std::string service;
  std::string version;
  std::string git_commit = "unknown";
  bool git_dirty = false;
  std::string created_at;  // RFC 3339; informational, not part of the digest
  int64_t mtime = 0;       // the fixed timestamp every entry carries (unix seconds)
  uint64_t zip_size = 0;
  std::vector<ManifestFile> files;  // sorted by path
};

// Accepts "sha256:<64 lowercase hex>" and returns the hex part.
Result<std::string> parse_digest(const std::string& digest);
std::filesystem::path artifact_zip_path(const std::filesystem::path& store_dir, const std::string& hex);
std::filesystem::path artifact_manifest_path(const std::filesystem::path& store_dir, const std::string& hex);

std::string manifest_to_json(const Manifest& m);
// `source` names the text in error messages.
Result<Manifest> parse_manifest(const std::string& text, const std::string& source);
Result<Manifest> read_manifest(const std::filesystem::path& store_dir, const std::string& digest);

// Re-hashes the stored zip and checks it against its name and its manifest's digest. A missing artifact is
// NotFound; bytes that no longer match their name are a Conflict naming both digests ("tampered").
Status verify_artifact(const std::filesystem::path& store_dir, const std::string& digest);

}  // namespace villager::artifact
