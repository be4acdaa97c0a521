#pragma once
// The master key of one environment's secret file: 32 random bytes, read from $VILLAGER_SECRETS_KEY_<ENV>
// (base64) or from a key file of mode 0600. Separate encryption, MAC and fingerprint keys are derived from
// it with crypto_kdf, so no key is ever used for two purposes. Every loaded key is registered for
// redaction.

#include <filesystem>
#include <string>
#include <string_view>

#include "base/error.h"

namespace villager::secrets {

inline constexpr size_t kMasterKeyBytes = 32;

// Where an environment's key comes from: the environment variable wins when it is set.
struct KeySource {
  std::string env_var;             // e.g. "VILLAGER_SECRETS_KEY_PRODUCTION"; empty: not consulted
  std::filesystem::path key_file;  // e.g. ".villager/keys/production.key"; empty: not consulted
  // The standard source of `env`: key_env_var(env) and default_key_file(state_dir, env).
  static KeySource for_env(const std::filesystem::path& state_dir, std::string_view env);
};

// "VILLAGER_SECRETS_KEY_" + env upper-cased with '-' turned into '_'.
std::string key_env_var(std::string_view env);
// <state_dir>/keys/<env>.key
std::filesystem::path default_key_file(const std::filesystem::path& state_dir, std::string_view env);

// A master key and the keys derived from it. Holds no operator<<; the bytes are wiped on destruction.
class Key {
 public:
  // `master` must be kMasterKeyBytes long. `origin` says where it came from, for error messages.
  static Result<Key> from_master(std::string_view master, std::string origin);
  // 32 fresh random bytes.
  static Key generate(std::string origin);

  Key(const Key&) = default;
  Key& operator=(const Key&) = default;
  Key(Key&&) = default;
  Key& operator=(Key&&) = default;
  ~Key();

  const std::string& master() const { return master_; }
  const std::string& enc_key() const { return enc_; }     // XChaCha20-Poly1305 key
  const std::string& mac_key() const { return mac_; }     // HMAC-SHA512-256 key over the whole file
  const std::string& fingerprint() const { return fp_; }  // 16 hex digits, safe to store and print
  const std::string& origin() const { return origin_; }
  void set_origin(std::string origin) { origin_ = std::move(origin); }

 private:
  Key() = default;
  std::string master_, enc_, mac_, fp_, origin_;
};

// Loads the key from `src`: $env_var when set (base64 of 32 bytes), else key_file (the same text; mode
// must be 0600 or stricter). NotFound when neither exists; FailedPrecondition for a key file whose mode
// is too open; InvalidArgument for a malformed key.
Result<Key> load_key(const KeySource& src);
// Writes `key` as base64 to `path` atomically with mode 0600, creating its folder with mode 0700 and a
// .gitignore there that keeps every key out of git.
Status write_key_file(const std::filesystem::path& path, const Key& key);

}  // namespace villager::secrets
