#include "gate/keys.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "base/fs.h"
#include "base/hash.h"
#include "base/strings.h"

namespace villager::gate {

namespace {

constexpr size_t kSeedBytes = crypto_sign_SEEDBYTES;
// A key file is one short line; anything bigger is not a key file.
constexpr size_t kMaxKeyFileBytes = 1024;

void init_sodium() {
  static const bool ok = sodium_init() >= 0;
  if (!ok) std::abort();  // libsodium cannot run without a working RNG; nothing safe to do.
}

// Canonical base64 only: decoding then encoding must give the same text back.
Result<std::string> strict_base64(std::string_view text) {
  auto raw = base64_decode(text);
  if (!raw || base64_encode(*raw) != text) return InvalidArgument("bad base64");
  return raw;
}

Result<KeyPair> from_seed(const std::string& role, const std::string& name, std::string_view seed) {
  init_sodium();
  if (seed.size() != kSeedBytes) return InvalidArgument("seed must be 32 bytes");
  std::string pk(crypto_sign_PUBLICKEYBYTES, '\0'), sk(crypto_sign_SECRETKEYBYTES, '\0');
  crypto_sign_seed_keypair(reinterpret_cast<unsigned char*>(pk.data()),
                           reinterpret_cast<unsigned char*>(sk.data()),
                           reinterpret_cast<const unsigned char*>(seed.data()));
  KeyPair k{role, name, pk, Secret(sk)};
  sodium_memzero(sk.data(), sk.size());
  return k;
}

}  // namespace

Result<KeyPair> generate_key(const std::string& role, const std::string& name) {
  if (!valid_name(role)) return InvalidArgument("role '" + role + "' may hold only letters, digits, - and _");
  if (!valid_name(name)) return InvalidArgument("name '" + name + "' may hold only letters, digits, - and _");
  init_sodium();
  std::string seed(kSeedBytes, '\0');
  randombytes_buf(seed.data(), seed.size());
  auto k = from_seed(role, name, seed);
  sodium_memzero(seed.data(), seed.size());
  return k;
}

std::string public_key_text(std::string_view raw) {
  return std::string(kPublicKeyPrefix) + base64_encode(raw);
}

Result<std::string> parse_public_key(std::string_view text) {
  if (!starts_with(text, kPublicKeyPrefix))
    return InvalidArgument("public key must look like \"ed25519:<base64>\"");
  auto raw = strict_base64(text.substr(kPublicKeyPrefix.size()));
  if (!raw) return InvalidArgument("public key: bad base64");
  if (raw->size() != kPublicKeyBytes)
    return InvalidArgument("public key must be 32 bytes, not " + std::to_string(raw->size()));
  return raw;
}

std::string key_fingerprint(std::string_view raw_public_key) {
  return Digest::of(raw_public_key).full();
}

Status write_private_key(const std::filesystem::path& path, const KeyPair& key) {
  // The seed is the first half of libsodium's secret key.
  std::string seed = key.secret_key.reveal().substr(0, kSeedBytes);
  std::string line =
      std::string(kPrivateKeyTag) + " " + key.role + " " + key.name + " " + base64_encode(seed) + "\n";
  sodium_memzero(seed.data(), seed.size());
  // O_EXCL: never overwrite a key someone may still hold approvals from; 0600 from the first byte.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    int err = errno;
    sodium_memzero(line.data(), line.size());
    if (err == EEXIST)
      return Conflict("writing key " + path.string() + ": file exists (refusing to overwrite)");
    return Internal("writing key " + path.string() + ": " + std::strerror(err));
  }
  ::fchmod(fd, 0600);  // the umask may have narrowed it further, never widened it; make it exact
  size_t off = 0;
  while (off < line.size()) {
    ssize_t n = ::write(fd, line.data() + off, line.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      sodium_memzero(line.data(), line.size());
      return Internal("writing key " + path.string() + ": " + std::strerror(err));
    }
    off += static_cast<size_t>(n);
  }
  sodium_memzero(line.data(), line.size());
  if (::fsync(fd) != 0 || ::close(fd) != 0)
    return Internal("writing key " + path.string() + ": " + std::strerror(errno));
  return Ok();
}

Result<KeyPair> read_private_key(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return NotFound("reading key " + path.string() + ": no such file");
    return Internal("reading key " + path.string() + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) return InvalidArgument("reading key " + path.string() + ": not a regular file");
  if (st.st_mode & 077) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777);
    return PermissionDenied("reading key " + path.string() + ": mode " + mode +
                            " lets other users read it; run `chmod 600 " + path.string() + "`");
  }
  if (st.st_size > static_cast<off_t>(kMaxKeyFileBytes))
    return InvalidArgument("reading key " + path.string() + ": too large to be a key file");
  auto text = read_file(path);
  if (!text) return text.error().context("reading key");
  std::string line(trim(*text));
  auto parts = split(line, ' ');
  sodium_memzero(text->data(), text->size());
  auto bad = [&](const std::string& why) {
    return InvalidArgument("reading key " + path.string() + ": " + why + " (expected `" +
                           std::string(kPrivateKeyTag) + " ROLE NAME BASE64`)");
  };
  if (parts.size() != 4 || parts[0] != kPrivateKeyTag) return bad("not a villager private key");
  if (!valid_name(parts[1]) || !valid_name(parts[2])) return bad("bad role or name");
  auto seed = strict_base64(parts[3]);
  sodium_memzero(parts[3].data(), parts[3].size());
  sodium_memzero(line.data(), line.size());
  if (!seed || seed->size() != kSeedBytes) return bad("the key is not 32 bytes of base64");
  auto k = from_seed(parts[1], parts[2], *seed);
  sodium_memzero(seed->data(), seed->size());
  return k;
}

std::string signer_toml(const KeyPair& key) {
  return "[[signer]]\nrole = \"" + key.role + "\"\nname = \"" + key.name + "\"\npublic_key = \"" +
         public_key_text(key.public_key) + "\"\n";
}

std::string sign_detached(const KeyPair& key, std::string_view message) {
  init_sodium();
  std::string sig(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(sig.data()), nullptr,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                       reinterpret_cast<const unsigned char*>(key.secret_key.reveal().data()));
  return sig;
}

bool verify_detached(std::string_view raw_public_key, std::string_view message, std::string_view signature) {
  init_sodium();
  if (raw_public_key.size() != crypto_sign_PUBLICKEYBYTES || signature.size() != crypto_sign_BYTES)
    return false;
  return crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(signature.data()),
                                     reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                                     reinterpret_cast<const unsigned char*>(raw_public_key.data())) == 0;
}

}  // namespace villager::gate
