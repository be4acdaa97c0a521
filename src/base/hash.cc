#include "base/hash.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <fstream>
#include <memory>

#include "base/strings.h"

namespace villager {

std::string sha256(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(md), len);
}

std::string sha256_hex(std::string_view data) {
  return hex_encode(sha256(data));
}

Result<std::string> sha256_file_hex(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound(path.string() + ": cannot open");
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  char buf[1 << 16];
  while (in) {
    in.read(buf, sizeof buf);
    if (in.gcount() > 0) EVP_DigestUpdate(ctx.get(), buf, static_cast<size_t>(in.gcount()));
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), md, &len);
  return hex_encode(std::string_view(reinterpret_cast<char*>(md), len));
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string sha256_digest(std::string_view data) {
  return std::string(kDigestPrefix) + sha256_hex(data);
}

std::string digest_hex(std::string_view digest) {
  if (digest.substr(0, kDigestPrefix.size()) == kDigestPrefix) digest.remove_prefix(kDigestPrefix.size());
  return std::string(digest);
}

Result<std::string> parse_digest(std::string_view digest) {
  const std::string quoted = "digest '" + std::string(digest) + "'";
  if (digest.substr(0, kDigestPrefix.size()) != kDigestPrefix)
    return InvalidArgument(quoted + " does not start with 'sha256:'");
  std::string hex(digest.substr(kDigestPrefix.size()));
  if (hex.size() != 64) return InvalidArgument(quoted + " must have 64 hex digits");
  for (char c : hex)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return InvalidArgument(quoted + " has a character that is not lowercase hex");
  return hex;
}

bool is_digest(std::string_view text) {
  return static_cast<bool>(parse_digest(text));
}

std::string short_digest(std::string_view digest) {
  return std::string(digest.substr(0, kDigestPrefix.size() + 12));
}

}  // namespace villager
