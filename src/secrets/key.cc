#include "secrets/key.h"

#include <sodium.h>
#include <sys/stat.h>

#include <cstdlib>
#include <cstring>

#include "base/fs.h"
#include "base/redact.h"
#include "base/strings.h"

namespace villager::secrets {

namespace {

// crypto_kdf context: exactly 8 bytes, fixed for format version 1.
constexpr char kKdfContext[crypto_kdf_CONTEXTBYTES + 1] = "villsecr";
constexpr uint64_t kEncSubkeyId = 1;
constexpr uint64_t kMacSubkeyId = 2;
constexpr uint64_t kFingerprintSubkeyId = 3;
constexpr size_t kFingerprintBytes = 8;

void init_sodium() {
  static const bool ok = sodium_init() >= 0;
  if (!ok) std::abort();  // libsodium cannot run without a working RNG; nothing safe to do.
}

std::string derive(const std::string& master, uint64_t id, size_t len) {
  std::string out(len, '\0');
  crypto_kdf_derive_from_key(reinterpret_cast<unsigned char*>(out.data()), len, id, kKdfContext,
                             reinterpret_cast<const unsigned char*>(master.data()));
  return out;
}

void wipe(std::string& s) {
  if (!s.empty()) sodium_memzero(s.data(), s.size());
}

// Strict base64 (standard alphabet, padding optional, surrounding whitespace ignored).
Result<std::string> decode_key_text(std::string_view text) {
  std::string_view t = trim(text);
  std::string out(t.size(), '\0');
  size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), t.data(), t.size(), nullptr,
                        &len, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0 &&
      sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), t.data(), t.size(), nullptr,
                        &len, nullptr, sodium_base64_VARIANT_ORIGINAL_NO_PADDING) != 0)
    return InvalidArgument("not base64");
  out.resize(len);
  if (len != kMasterKeyBytes) {
    wipe(out);
    return InvalidArgument("decodes to " + std::to_string(len) + " bytes, expected " +
                           std::to_string(kMasterKeyBytes));
  }
  return out;
}

}  // namespace

KeySource KeySource::for_env(const std::filesystem::path& state_dir, std::string_view env) {
  return {key_env_var(env), default_key_file(state_dir, env)};
}

std::string key_env_var(std::string_view env) {
  std::string out = "VILLAGER_SECRETS_KEY_";
  for (char c : env)
    out.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return out;
}

std::filesystem::path default_key_file(const std::filesystem::path& state_dir, std::string_view env) {
  return state_dir / "keys" / (std::string(env) + ".key");
}

Result<Key> Key::from_master(std::string_view master, std::string origin) {
  init_sodium();
  if (master.size() != kMasterKeyBytes)
    return InvalidArgument("a secrets key is " + std::to_string(kMasterKeyBytes) + " bytes");
  Key k;
  k.master_.assign(master);
  k.enc_ = derive(k.master_, kEncSubkeyId, crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
  k.mac_ = derive(k.master_, kMacSubkeyId, crypto_auth_hmacsha512256_KEYBYTES);
  // crypto_kdf's shortest output is 16 bytes; the fingerprint keeps half of it.
  k.fp_ =
      hex_encode(derive(k.master_, kFingerprintSubkeyId, crypto_kdf_BYTES_MIN).substr(0, kFingerprintBytes));
  k.origin_ = std::move(origin);
  register_secret(k.master_);
  return k;
}

Key Key::generate(std::string origin) {
  init_sodium();
  std::string bytes(kMasterKeyBytes, '\0');
  randombytes_buf(bytes.data(), bytes.size());
  auto k = from_master(bytes, std::move(origin));
  wipe(bytes);
  return std::move(k).value();
}

Key::~Key() {
  wipe(master_);
  wipe(enc_);
  wipe(mac_);
}

Result<Key> load_key(const KeySource& src) {
  if (!src.env_var.empty()) {
    if (const char* v = std::getenv(src.env_var.c_str()); v && *v) {
      auto bytes = decode_key_text(v);
      if (!bytes) return bytes.error().context("$" + src.env_var);
      auto k = Key::from_master(*bytes, src.env_var);
      wipe(*bytes);
      return k;
    }
  }
  if (src.key_file.empty() || !fs::exists(src.key_file)) {
    std::string where = src.env_var.empty() ? "" : "$" + src.env_var + " is not set";
    if (!src.key_file.empty())
      where += (where.empty() ? "" : " and ") + src.key_file.string() + " does not exist";
    return NotFound("no key (" + where + ")");
  }
  struct stat st {};
  if (::stat(src.key_file.c_str(), &st) != 0)
    return PermissionDenied(src.key_file.string() + ": cannot stat: " + std::strerror(errno));
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return FailedPrecondition(src.key_file.string() + ": mode " + mode +
                              " is looser than 0600; refusing to use it (run `chmod 600 " +
                              src.key_file.string() +
                              "` if nobody else could have read it, else rotate the key)");
  }
  auto text = read_file(src.key_file);
  if (!text) return text.error();
  auto bytes = decode_key_text(*text);
  wipe(*text);
  if (!bytes) return bytes.error().context(src.key_file.string());
  auto k = Key::from_master(*bytes, src.key_file.string());
  wipe(*bytes);
  return k;
}

Status write_key_file(const std::filesystem::path& path, const Key& key) {
  fs::path dir = path.parent_path();
  VILLAGER_RETURN_IF_ERROR(ensure_dir(dir, fs::perms(0700)));
  if (!fs::exists(dir / ".gitignore")) {
    VILLAGER_RETURN_IF_ERROR(write_file_atomic(dir / ".gitignore", "# keys never go into git\n*\n"));
  }
  std::string text = base64_encode(key.master()) + "\n";
  Status s = write_file_atomic(path, text, fs::perms(0600));
  wipe(text);
  if (!s.ok()) return s.error().context("writing key " + path.string());
  return Ok();
}

}  // namespace villager::secrets
