#pragma once
// Which [[signer]] holds a signing key: the one question approvals and waivers both ask before they
// trust a record. The key decides who signed, never the names in the payload.

#include <string>
#include <vector>

#include "config/config.h"

namespace villager::gate {

struct KeyHolders {
  std::vector<const config::SignerConfig*> signers;  // every [[signer]] with this key (in file order)
  std::string raw_key;                               // the key's 32 raw bytes, when any holds it
  bool empty() const { return signers.empty(); }
  // Whether one of them is `name` trusted for `role`.
  bool trusts(const std::string& role, const std::string& name) const;
};

KeyHolders key_holders(const config::Config& config, const std::string& fingerprint);

// "FILE: signed by key sha256:0123..., which no [[signer]] in villager.toml holds"
std::string unknown_key_message(const std::string& file, const std::string& fingerprint,
                                const config::Config& config);

}  // namespace villager::gate
