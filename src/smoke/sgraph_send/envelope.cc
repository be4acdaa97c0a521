#include "smoke/sgraph_send/envelope.h"

#include <openssl/evp.h>

#include <memory>

#include "base/strings.h"

namespace villager::smoke::sgraph_send {

namespace {
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;
const unsigned char* u8(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
}  // namespace

std::string sgmeta_envelope(std::string_view file_name, std::string_view content) {
  std::string json = "{\"filename\":" + quote(file_name) + "}";
  std::string out = "SGMETA";
  uint32_t n = static_cast<uint32_t>(json.size());
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((n >> shift) & 0xff);
  out += json;
  out.append(content);
  return out;
}

Result<std::string> encrypt_payload(std::string_view key, std::string_view iv, std::string_view plaintext) {
  if (key.size() != kAesKeyBytes || iv.size() != kGcmIvBytes)
    return InvalidArgument("AES-256-GCM needs a 32-byte key and a 12-byte IV");
  CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  std::string out(iv);
  out.resize(kGcmIvBytes + plaintext.size() + kGcmTagBytes);
  auto* dst = reinterpret_cast<unsigned char*>(out.data()) + kGcmIvBytes;
  int len = 0, total = 0;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kGcmIvBytes, nullptr) != 1 ||
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, u8(key), u8(iv)) != 1 ||
      EVP_EncryptUpdate(ctx.get(), dst, &len, u8(plaintext), static_cast<int>(plaintext.size())) != 1)
    return Internal("AES-256-GCM encryption failed");
  total = len;
  if (EVP_EncryptFinal_ex(ctx.get(), dst + total, &len) != 1) return Internal("AES-256-GCM final failed");
  total += len;
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kGcmTagBytes, dst + total) != 1)
    return Internal("AES-256-GCM tag failed");
  out.resize(kGcmIvBytes + total + kGcmTagBytes);
  return out;
}

Result<std::string> decrypt_payload(std::string_view key, std::string_view payload) {
  if (key.size() != kAesKeyBytes || payload.size() < kGcmIvBytes + kGcmTagBytes)
    return InvalidArgument("payload too short for IV || ciphertext || tag");
  std::string_view iv = payload.substr(0, kGcmIvBytes);
  std::string_view ct = payload.substr(kGcmIvBytes, payload.size() - kGcmIvBytes - kGcmTagBytes);
  std::string tag(payload.substr(payload.size() - kGcmTagBytes));
  CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  std::string out(ct.size(), '\0');
  int len = 0;
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kGcmIvBytes, nullptr) != 1 ||
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, u8(key), u8(iv)) != 1 ||
      EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len, u8(ct),
                        static_cast<int>(ct.size())) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kGcmTagBytes, tag.data()) != 1)
    return Internal("AES-256-GCM decryption failed");
  int fin = 0;
  if (EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + len, &fin) != 1)
    return PermissionDenied("AES-256-GCM tag does not verify");
  out.resize(len + fin);
  return out;
}

}  // namespace villager::smoke::sgraph_send
