#pragma once
// Looking for canaries (values that must never be stored or logged) in files and folders, in raw and
// encoded forms, reporting each hit with the file, byte offset and the value masked.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "base/error.h"
#include "smoke/smoke.h"

namespace villager::smoke {

// Files bigger than this are scanned up to this many bytes (and the cut is noted).
inline constexpr uint64_t kMaxScanBytesPerFile = 64ull * 1024 * 1024;

struct Canary {
  std::string name;   // "marker", "file name", "AES key", "access token", ...
  std::string value;  // the raw bytes
};

struct EncodedForm {
  std::string form;   // "raw", "hex", "HEX", "base64", "base64url", "percent", "json"
  std::string bytes;  // what to look for
};

// The distinct forms a value can take in a file: raw, lower/upper hex, base64 (with and without
// padding), base64url, percent-encoding (both cases) and JSON string escaping. Values and forms
// shorter than 4 bytes give nothing: they would match by chance.
std::vector<EncodedForm> encoded_forms(const std::string& value);

struct ScanHit {
  std::string file;  // as given (root joined with the relative path)
  uint64_t offset = 0;
  std::string canary;
  std::string form;
  std::string masked;  // the value masked ("vi***" or "***")
};

struct ScanSummary {
  std::vector<ScanHit> hits;  // by file, then offset
  uint64_t files = 0;
  uint64_t bytes = 0;
  std::vector<std::string> missing;    // roots that do not exist
  std::vector<std::string> truncated;  // files scanned only up to kMaxScanBytesPerFile
};

// Scans every regular file under each root (a root may be a file). Unreadable files are an error.
Result<ScanSummary> scan_for_canaries(const std::vector<std::filesystem::path>& roots,
                                      const std::vector<Canary>& canaries);

// Scans bytes that are not files (S3 objects, log streams); each source counts as one file in the
// summary and its hits carry the source's name. Sources longer than kMaxScanBytesPerFile are scanned up
// to that many bytes (and noted in `truncated`).
ScanSummary scan_sources_for_canaries(const std::vector<ScanSource>& sources,
                                      const std::vector<Canary>& canaries);

// A value shown in a report without giving it away: the first two characters of long values, then ***.
std::string mask_value(const std::string& value);

}  // namespace villager::smoke
