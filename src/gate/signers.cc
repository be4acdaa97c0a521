#include "gate/signers.h"

#include "gate/keys.h"

namespace villager::gate {

KeyHolders key_holders(const config::Config& config, const std::string& fingerprint) {
  KeyHolders out;
  for (const auto& signer : config.signers) {
    auto raw = parse_public_key(signer.public_key);
    if (raw && key_fingerprint(*raw) == fingerprint) {
      out.signers.push_back(&signer);
      out.raw_key = *raw;
    }
  }
  return out;
}

bool KeyHolders::trusts(const std::string& role, const std::string& name) const {
  for (const auto* h : signers)
    if (h->role == role && h->name == name) return true;
  return false;
}

std::string unknown_key_message(const std::string& file, const std::string& fingerprint,
                                const config::Config& config) {
  return file + ": signed by key " + fingerprint.substr(0, 23) + "..., which no [[signer]] in " +
         config.file.filename().string() + " holds";
}

}  // namespace villager::gate
