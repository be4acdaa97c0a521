#include "base/hash.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <fstream>
#include <memory>
#include <ostream>

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

namespace {

// What is wrong with `hex` as the hex part of a digest, or "" when nothing is.
std::string hex_problem(std::string_view hex) {
  if (hex.size() != Digest::kHexDigits) return "must have 64 hex digits";
  for (char c : hex)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return "has a character that is not lowercase hex";
  return "";
}

}  // namespace

Result<Digest> Digest::parse(std::string_view text) {
  const std::string quoted = "digest '" + std::string(text) + "'";
  if (text.substr(0, kDigestPrefix.size()) != kDigestPrefix)
    return InvalidArgument(quoted + " does not start with 'sha256:'");
  if (auto why = hex_problem(text.substr(kDigestPrefix.size())); !why.empty())
    return InvalidArgument(quoted + " " + why);
  return Digest(std::string(text));
}

Result<Digest> Digest::from_hex(std::string_view hex) {
  if (auto why = hex_problem(hex); !why.empty())
    return InvalidArgument("digest hex '" + std::string(hex) + "' " + why);
  return Digest(std::string(kDigestPrefix) + std::string(hex));
}

Digest Digest::of(std::string_view data) {
  return Digest(std::string(kDigestPrefix) + sha256_hex(data));
}

Result<Digest> Digest::of_file(const std::filesystem::path& path) {
  auto hex = sha256_file_hex(path);
  if (!hex) return hex.error();
  return Digest(std::string(kDigestPrefix) + *hex);
}

std::string_view Digest::hex() const {
  if (empty()) return {};
  return std::string_view(full_).substr(kDigestPrefix.size());
}

std::string Digest::short_form() const {
  if (empty()) return "";
  return full_.substr(0, kDigestPrefix.size() + kShortHexDigits);
}

std::ostream& operator<<(std::ostream& os, const Digest& d) {
  return os << d.full();
}

std::string digest_hex(std::string_view digest) {
  if (digest.substr(0, kDigestPrefix.size()) == kDigestPrefix) digest.remove_prefix(kDigestPrefix.size());
  return std::string(digest);
}

std::string short_digest(std::string_view digest) {
  return std::string(digest.substr(0, kDigestPrefix.size() + Digest::kShortHexDigits));
}

}  // namespace villager
