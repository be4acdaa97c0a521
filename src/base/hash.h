#pragma once
// SHA-256 digests (OpenSSL), as raw bytes or lowercase hex.

#include <filesystem>
#include <string>
#include <string_view>

#include "base/error.h"

namespace villager {

std::string sha256(std::string_view data);      // 32 raw bytes
std::string sha256_hex(std::string_view data);  // 64 hex digits
Result<std::string> sha256_file_hex(const std::filesystem::path& path);
// Content digests are spelled "sha256:" + 64 lowercase hex everywhere (artifacts, approvals, releases);
// these are the one place that knows the spelling.
inline constexpr std::string_view kDigestPrefix = "sha256:";
std::string sha256_digest(std::string_view data);  // "sha256:" + sha256_hex(data)
// The hex part ("sha256:abc..." -> "abc..."); anything else is returned as it is.
std::string digest_hex(std::string_view digest);
// The short form people read: "sha256:" and the first 12 hex digits.
std::string short_digest(std::string_view digest);
// The hex part of a digest spelled exactly as above ("sha256:" and 64 lowercase hex digits), else
// InvalidArgument saying what is wrong with it.
Result<std::string> parse_digest(std::string_view digest);
bool is_digest(std::string_view text);
// Constant-time comparison for secrets and MACs.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace villager
