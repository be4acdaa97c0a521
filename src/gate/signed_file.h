#pragma once
// The file format approvals and waivers share: a signed payload in an envelope,
//   {"format": F, "payload": {...}, "payload_sha256": HEX, "signature": BASE64, "key": "sha256:HEX"}
// written in that field order with the payload in its canonical (sorted) order. This header owns the
// envelope; approval.h and waiver.h own their payloads and what the signature covers.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "base/error.h"

namespace villager::gate {

struct SignedEnvelope {
  std::string key_fingerprint;  // "sha256:" and 64 lowercase hex digits
  std::string payload_sha256;   // 64 lowercase hex digits
  std::string signature;        // kSignatureBytes raw bytes
  nlohmann::json payload;       // not checked here: the kind's own parser does that
};

// Parses an envelope of `format`. A key twice in any object, an unknown or missing field, a field of the
// wrong type or spelling is refused; the error is the reason alone (the caller names the file).
Result<SignedEnvelope> parse_signed_envelope(std::string_view text, std::string_view format);

// The file text of an envelope around `canonical` (the payload's canonical JSON), ending in a newline.
std::string signed_envelope_text(std::string_view format, const std::string& canonical,
                                 const std::string& payload_sha256, const std::string& signature,
                                 const std::string& key_fingerprint);

bool is_lower_hex(std::string_view s, size_t len);

}  // namespace villager::gate
