#pragma once
// The secret scan run before packaging (and alone by `villager scan`). Rules, thresholds and the
// allowlist format are documented in docs/artifact.md. Matching is hand-written over bytes (no regex), so
// a multi-megabyte minified line costs linear time and still reports the exact line and column, and a
// key embedded in binary data is found as long as its own bytes are printable.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace villager::artifact {

// Files larger than this are skipped with a note rather than read whole.
inline constexpr uint64_t kMaxScanFileBytes = 32 * 1024 * 1024;
// generic-secret: a value needs at least this many characters and this Shannon entropy (bits/char).
inline constexpr size_t kGenericSecretMinLength = 12;
inline constexpr double kGenericSecretMinEntropy = 3.0;
// aws-secret-access-key: a 40-character value counts when an access key id is this close (bytes).
inline constexpr size_t kAwsSecretNearBytes = 512;
inline constexpr double kAwsSecretMinEntropy = 4.0;
// The inline marker that silences every finding on its line, and the default allowlist file name.
inline constexpr std::string_view kInlineAllowMarker = "villager:allow";
inline constexpr std::string_view kAllowlistFileName = ".villager-scan-allow";

struct Finding {
  std::string file;         // relative to the scanned directory, '/'-separated
  size_t line = 0;          // 1-based
  size_t column = 0;        // 1-based, in bytes
  std::string rule;         // "aws-access-key-id", "private-key", ...
  std::string masked;       // first 4 characters + "****": the value itself is never kept
  std::string fingerprint;  // sha256 hex of "<rule>:<value>", for the allowlist
};

// Allowlist entries: "rule:path-glob" ("*" as rule matches any rule; the glob is fnmatch without
// FNM_PATHNAME, so "*" also crosses '/'), or a 64-hex finding fingerprint. '#' starts a comment.
class Allowlist {
 public:
  static Result<Allowlist> parse(std::string_view text, const std::string& source);
  static Result<Allowlist> load(const std::filesystem::path& path);
  bool allows(const Finding& f) const;
  bool empty() const { return rules_.empty() && fingerprints_.empty(); }

 private:
  std::vector<std::pair<std::string, std::string>> rules_;  // (rule, glob)
  std::vector<std::string> fingerprints_;
};

struct ScanOptions {
  // Empty: <dir>/.villager-scan-allow when it exists and default_allowlist is set. A path given here
  // must exist.
  std::filesystem::path allowlist;
  bool default_allowlist = true;
  // Prepended to every finding's file, for display and for allowlist globs ("dist/user/" lets a
  // project-level allowlist name paths from the project root).
  std::string path_prefix;
  uint64_t max_file_bytes = kMaxScanFileBytes;
};

struct ScanReport {
  std::vector<Finding> findings;   // ordered by file, line, column
  std::vector<std::string> notes;  // files not scanned and why ("big.bin: skipped, 40 MiB > 32 MiB")
  size_t files_scanned = 0;
  size_t allowed = 0;  // findings silenced by the allowlist or the inline marker
};

// Scans every regular file under `dir` (not following symlinks; .git is skipped, as is the allowlist
// file itself). A missing dir is NotFound; an unreadable allowlist is an error.
Result<ScanReport> scan_tree(const std::filesystem::path& dir, const ScanOptions& opts = {});
// The same, findings only.
Result<std::vector<Finding>> scan_directory(const std::filesystem::path& dir, const ScanOptions& opts = {});

// Findings in one file's content, inline markers applied, allowlist not (exposed for tests).
// `allowed` (optional) counts findings the inline marker silenced.
std::vector<Finding> scan_content(std::string_view file, std::string_view content, size_t* allowed = nullptr);

double shannon_entropy(std::string_view s);
std::string mask_value(std::string_view value);
std::string finding_fingerprint(std::string_view rule, std::string_view value);

}  // namespace villager::artifact
