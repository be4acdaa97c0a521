#pragma once
// SHA-256 digests (OpenSSL), as raw bytes or lowercase hex.

#include <compare>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>
#include <utility>

#include "base/error.h"

namespace villager {

std::string sha256(std::string_view data);      // 32 raw bytes
std::string sha256_hex(std::string_view data);  // 64 hex digits
Result<std::string> sha256_file_hex(const std::filesystem::path& path);
// Content digests are spelled "sha256:" + 64 lowercase hex everywhere (artifacts, approvals, releases,
// key fingerprints); Digest is the one place that knows the spelling.
inline constexpr std::string_view kDigestPrefix = "sha256:";

// A content digest as a value: "sha256:" and 64 lowercase hex digits, checked once when it is made
// (parse, from_hex) or computed (of, of_file). A default-constructed Digest is empty(), for structs that are
// filled later or a "nothing" (no previous release); its full(), hex() and short_form() are "".
class Digest {
 public:
  Digest() = default;

  // "sha256:<64 lowercase hex>", else InvalidArgument saying what is wrong with the text.
  static Result<Digest> parse(std::string_view text);
  // The 64 lowercase hex digits alone (a folder or file name), else InvalidArgument.
  static Result<Digest> from_hex(std::string_view hex);
  static Digest of(std::string_view data);  // SHA-256 of data
  static Result<Digest> of_file(const std::filesystem::path& path);

  bool empty() const { return full_.empty(); }
  const std::string& full() const { return full_; }  // "sha256:<hex>"
  std::string_view hex() const;                      // the 64 hex digits
  std::string short_form() const;                    // "sha256:" + 12 hex digits
  std::string_view short_hex() const { return hex().substr(0, kShortHexDigits); }  // 12 hex digits

  friend bool operator==(const Digest&, const Digest&) = default;
  friend auto operator<=>(const Digest&, const Digest&) = default;

  static constexpr size_t kHexDigits = 64;
  static constexpr size_t kShortHexDigits = 12;

 private:
  explicit Digest(std::string full) : full_(std::move(full)) {}
  std::string full_;  // "" or a checked "sha256:<64 hex>"
};

std::ostream& operator<<(std::ostream& os, const Digest& d);  // full(), for logs and test failures

// For the callers that still carry a digest as text (the Target interface, store rows, slot keys);
// neither checks it.
// The hex part ("sha256:abc..." -> "abc..."); anything else is returned as it is.
std::string digest_hex(std::string_view digest);
// The short form people read: "sha256:" and the first 12 hex digits (a cut, whatever the text is).
std::string short_digest(std::string_view digest);
// Constant-time comparison for secrets and MACs.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace villager

template <>
struct std::hash<villager::Digest> {
  size_t operator()(const villager::Digest& d) const noexcept { return std::hash<std::string>{}(d.full()); }
};
