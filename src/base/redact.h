#pragma once
// Process-wide redaction of secret values. Every value registered here is masked as "***" wherever
// villager prints or writes text (logs, stdout, stderr, review documents, smoke reports), in raw, hex,
// base64 and base64url forms. Secret is a value holder with no operator<<: printing needs reveal().

#include <string>
#include <string_view>

namespace villager {

// Registers a value to be masked from now on. Values shorter than 4 bytes are ignored: masking them
// would garble ordinary text and they protect nothing.
void register_secret(std::string_view value);
// Returns `text` with every registered secret (and its encodings) replaced by "***".
std::string redact(std::string_view text);
// Forgets every registered value (tests only).
void clear_secrets_for_test();

class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) { register_secret(value_); }
  const std::string& reveal() const { return value_; }
  bool empty() const { return value_.empty(); }
  // Always "***" (or "" when empty): safe to print.
  std::string masked() const { return value_.empty() ? "" : "***"; }

 private:
  std::string value_;
};

}  // namespace villager
