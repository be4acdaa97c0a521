#pragma once
// Searching files for secret values, for the smoke suite's plaintext check (which includes villager's own
// state and logs) and for leak tests: every value in raw, hex (both cases), base64 and base64url forms,
// the forms redact() masks. Hits name the file, the secret and the form, never the value.

#include <filesystem>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/redact.h"

namespace villager::secrets {

struct KnownSecret {
  std::string label;  // "production/API_TOKEN v2": safe to print
  Secret value;
};

struct Leak {
  std::filesystem::path file;
  std::string label;  // of the secret found
  std::string form;   // "raw", "hex", "HEX", "base64" or "base64url"
};

// Every value (all versions) of `env` that its key opens; empty when there is no key or no file. A
// damaged file contributes the lines that still open.
std::vector<KnownSecret> known_secrets(const std::filesystem::path& state_dir, const std::string& env);

// Searches every regular file under each root (a root may be a file) for every secret; one hit per (file,
// secret), with the first form found. Values shorter than 4 bytes are skipped (redaction cannot mask them
// either). Files over kMaxScanBytes are an error, as are unreadable files: a scan that skips what it
// cannot read would pass for the wrong reason.
inline constexpr size_t kMaxScanBytes = 256u * 1024 * 1024;
Result<std::vector<Leak>> scan_for_secrets(const std::vector<std::filesystem::path>& roots,
                                           const std::vector<KnownSecret>& secrets);

}  // namespace villager::secrets
