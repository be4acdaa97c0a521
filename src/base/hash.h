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
// Constant-time comparison for secrets and MACs.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace villager
