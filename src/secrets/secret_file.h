#pragma once
// The on-disk format of one environment's secrets, `<state_dir>/secrets/<env>.enc` (docs/secrets.md):
//
//   villager-secrets v1 env=<env> key=<fingerprint> lines=<n>
//   <NAME> <VERSION> <UPDATED_AT> <set|rm> <NONCE_B64> <CIPHERTEXT_B64>     (n lines, sorted by name,
//   version) mac <HMAC_B64>
//
// Names are in clear so the file diffs well in git; each value is sealed with XChaCha20-Poly1305 under
// associated data binding the format, environment, name, version, time and state, and the last line is
// an HMAC-SHA512-256 over every byte before it. parse_and_verify() names the line and secret of any edit.

#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "base/redact.h"
#include "secrets/key.h"

namespace villager::secrets {

// One (name, version) of a secret. A removal is a version of its own with state rm and an empty value,
// so history is never lost and older versions stay available for rollback.
struct SecretLine {
  std::string name;
  int version = 0;
  std::string updated_at;  // RFC 3339, UTC
  bool removed = false;
  std::string nonce;       // 24 raw bytes
  std::string ciphertext;  // raw bytes, value + 16-byte tag
};

struct SecretFile {
  std::string env;
  std::vector<SecretLine> lines;  // sorted by (name, version), versions of a name are 1..n
};

// A verified file with the value of each line (aligned with file.lines; removed lines hold "").
struct OpenedFile {
  SecretFile file;
  std::vector<Secret> values;
};

// True for names usable as environment variables: [A-Za-z_][A-Za-z0-9_]*, at most 128 characters.
bool valid_secret_name(std::string_view name);
// True for environment names usable in a file name: [a-z0-9][a-z0-9_-]*.
bool valid_env_name(std::string_view env);

// Seals `value` for (env, name, version, updated_at, removed) with a fresh random nonce.
SecretLine seal_line(const Key& key, const std::string& env, std::string name, int version,
                     std::string updated_at, bool removed, std::string_view value);
// Opens one line; Unauthenticated when its tag does not verify (edited line or wrong key).
Result<Secret> open_line(const Key& key, const std::string& env, const SecretLine& line);

// The file's text: header, lines in the given order, MAC line.
std::string serialize(const SecretFile& file, const Key& key);

// Parses `text` (read from `label`, used in messages) and checks everything: format, environment, key,
// each line's seal, order and continuity of versions, line count and the MAC. A wrong key gives
// "wrong key (the file's MAC does not verify with <key origin>)"; an edited line is named by line number
// and secret; reordered, deleted, appended or truncated lines are each named.
Result<OpenedFile> parse_and_verify(std::string_view text, const std::string& env, const Key& key,
                                    const std::string& label);

// Best effort for redaction: the values of every line that opens with `key`, ignoring file-level checks.
std::vector<Secret> open_what_opens(std::string_view text, const std::string& env, const Key& key);

}  // namespace villager::secrets
