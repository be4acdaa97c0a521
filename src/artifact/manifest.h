#pragma once
// The artifact store and its manifests. An artifact is `<store>/sha256/<hex>.zip`, named by the SHA-256 of
// its bytes, beside `<hex>.json`, its manifest (what went in: service, version, git commit, every file).
// `<store>` is `<state_dir>/artifacts`. verify_artifact() is what deploy and the gate call before they
// trust an artifact: the bytes must still hash to the name.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "base/hash.h"

namespace villager::artifact {

struct ManifestFile {
  std::string path;    // relative, '/'-separated, as stored in the zip
  std::string sha256;  // hex of the file's content
  uint64_t size = 0;
  uint32_t mode = 0644;  // 0644 or 0755
};

// A tool the build asked about (`build_tools`): the command line and the first line it printed.
struct BuildTool {
  std::string command;  // "python3 --version"
  std::string version;  // "Python 3.11.2"; "exit N: ..." when it failed
};

// The build step's run (docs/python.md), recorded with the release it produced. Informational: not part
// of the digest, which depends on the packed files only.
struct BuildRecord {
  std::vector<std::string> command;        // the argv, as configured
  std::map<std::string, std::string> env;  // the whole environment it ran with
  int exit_code = 0;                       // -1 when killed (signal, timeout)
  int64_t duration_ms = 0;
  std::string output_tail;  // the last lines of stdout and stderr
  std::vector<BuildTool> tools;
};

// A Python distribution vendored into the artifact (docs/python.md, "Vendored dependencies"). `sha256`
// covers its files: the SHA-256 of the `sha256sum` lines ("<hex>  <path>\n") of every file it owns,
// sorted by path, paths relative to the folder it was vendored into.
struct PythonDep {
  std::string name;     // as its metadata spells it: "fastapi", "typing_extensions"
  std::string version;  // "0.92.0"
  std::string sha256;
  size_t files = 0;
};

struct Manifest {
  Digest digest;  // of the zip bytes
  std::string service;
  std::string version;
  std::string git_commit = "unknown";
  bool git_dirty = false;
  std::string created_at;  // RFC 3339; informational, not part of the digest
  int64_t mtime = 0;       // the fixed timestamp every entry carries (unix seconds)
  uint64_t zip_size = 0;
  std::vector<ManifestFile> files;   // sorted by path
  std::optional<BuildRecord> build;  // when the service has a build step and this release ran it
  // The distributions under the service's python_deps target, sorted by normalized name. Their files
  // are packed too, so a changed dependency changes the digest.
  std::vector<PythonDep> python_deps;
};

std::filesystem::path artifact_zip_path(const std::filesystem::path& store_dir, const Digest& digest);
std::filesystem::path artifact_manifest_path(const std::filesystem::path& store_dir, const Digest& digest);

std::string manifest_to_json(const Manifest& m);
// `source` names the text in error messages. A "digest" that is not a digest is InvalidArgument.
Result<Manifest> parse_manifest(const std::string& text, const std::string& source);
Result<Manifest> read_manifest(const std::filesystem::path& store_dir, const Digest& digest);

// Re-hashes the stored zip and checks it against its name and its manifest's digest. A missing artifact is
// NotFound; bytes that no longer match their name are a Conflict naming both digests ("tampered").
Status verify_artifact(const std::filesystem::path& store_dir, const Digest& digest);

// The same for a digest still held as text (a command line, a store row): InvalidArgument from
// Digest::parse when it is not one.
Result<Manifest> read_manifest(const std::filesystem::path& store_dir, std::string_view digest);
Status verify_artifact(const std::filesystem::path& store_dir, std::string_view digest);

}  // namespace villager::artifact
