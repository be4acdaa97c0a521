#pragma once
// What a browser client of SGraph Send does before upload, done here with OpenSSL: a fresh AES-256-GCM
// key, a 12-byte IV, and the SGMETA envelope ("SGMETA" + 4-byte big-endian JSON length + JSON +
// content) encrypted as IV || ciphertext || tag.

#include <string>
#include <string_view>

#include "base/error.h"
#include "smoke/random.h"

namespace villager::smoke::sgraph_send {

inline constexpr size_t kAesKeyBytes = 32;
inline constexpr size_t kGcmIvBytes = 12;
inline constexpr size_t kGcmTagBytes = 16;

// "SGMETA" || be32(len(json)) || json || content, with json = {"filename": file_name}.
std::string sgmeta_envelope(std::string_view file_name, std::string_view content);
// IV || AES-256-GCM(key, IV, plaintext) || tag.
Result<std::string> encrypt_payload(std::string_view key, std::string_view iv, std::string_view plaintext);
// The inverse of encrypt_payload; fails when the tag does not verify.
Result<std::string> decrypt_payload(std::string_view key, std::string_view payload);

}  // namespace villager::smoke::sgraph_send
