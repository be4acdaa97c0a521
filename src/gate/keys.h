#pragma once
// Ed25519 signing keys for approvals (libsodium). A private key file is one line,
// `villager-ed25519-private ROLE NAME <base64 32-byte seed>`, mode 0600; reading refuses a file any other
// user can read or write. A public key is written "ed25519:<base64 32 bytes>" (the [[signer]] public_key)
// and identified by its fingerprint "sha256:<hex of SHA-256 of the 32 raw bytes>".

#include <filesystem>
#include <string>
#include <string_view>

#include "base/error.h"
#include "base/redact.h"
#include "gate/names.h"

namespace villager::gate {

inline constexpr std::string_view kPrivateKeyTag = "villager-ed25519-private";
inline constexpr std::string_view kPublicKeyPrefix = "ed25519:";
inline constexpr size_t kPublicKeyBytes = 32;
inline constexpr size_t kSignatureBytes = 64;

// A signer's key pair. `secret_key` holds libsodium's 64-byte secret key (seed + public key) and is
// registered for redaction.
struct KeyPair {
  std::string role;
  std::string name;
  std::string public_key;  // 32 raw bytes
  Secret secret_key;       // 64 raw bytes
};

// A fresh key pair. role and name must be valid names (letters, digits, - and _; at most 64).
Result<KeyPair> generate_key(const std::string& role, const std::string& name);

// "ed25519:<base64>" for 32 raw bytes, and back. Parsing is strict: prefix, canonical base64, 32 bytes.
std::string public_key_text(std::string_view raw);
Result<std::string> parse_public_key(std::string_view text);
// "sha256:<64 hex>" of the raw public key.
std::string key_fingerprint(std::string_view raw_public_key);

// Writes the private key file with mode 0600. Refuses to overwrite an existing file (Conflict).
Status write_private_key(const std::filesystem::path& path, const KeyPair& key);
// Reads a private key file. PermissionDenied when group or others have any access (the message says
// `chmod 600 FILE`); InvalidArgument naming the file for a malformed one.
Result<KeyPair> read_private_key(const std::filesystem::path& path);

// The [[signer]] table to paste into villager.toml.
std::string signer_toml(const KeyPair& key);

// Detached Ed25519 signature (64 raw bytes) over `message`, and its check.
std::string sign_detached(const KeyPair& key, std::string_view message);
bool verify_detached(std::string_view raw_public_key, std::string_view message, std::string_view signature);

}  // namespace villager::gate
