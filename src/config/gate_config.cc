#include "config/gate_config.h"

#include <set>

#include "base/strings.h"

namespace villager::config {

namespace {

const std::vector<std::string> kGateKeys = {"override_role"};
constexpr size_t kEd25519PublicKeyBytes = 32;

bool valid_gate_name(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
  return true;
}

void check_signers(TomlReader& r, const toml::table& root, const Config& c) {
  const toml::node* n = root.get("signer");
  const toml::array* a = n ? n->as_array() : nullptr;
  if (!a) return;                                      // parse_signers already reported a wrong shape
  std::set<std::pair<std::string, std::string>> seen;  // (role, public key)
  size_t i = 0;
  for (const auto& e : *a) {
    const toml::table* t = e.as_table();
    if (!t) continue;
    if (i >= c.signers.size()) break;
    const SignerConfig& s = c.signers[i++];
    if (!s.role.empty() && !valid_gate_name(s.role))
      r.error(r.where(*t, "role"), "signer role '" + s.role + "' may hold only letters, digits, - and _");
    if (!s.name.empty() && !valid_gate_name(s.name))
      r.error(r.where(*t, "name"), "signer name '" + s.name + "' may hold only letters, digits, - and _");
    if (starts_with(s.public_key, "ed25519:")) {
      std::string b64 = s.public_key.substr(8);
      auto raw = base64_decode(b64);
      if (!raw || base64_encode(*raw) != b64 || raw->size() != kEd25519PublicKeyBytes)
        r.error(r.where(*t, "public_key"),
                "'public_key' of signer '" + s.name +
                    "' is not 32 bytes of base64 (copy it from `villager keys generate`)");
    }
    if (!s.public_key.empty() && !seen.insert({s.role, s.public_key}).second)
      r.error(r.where(*t, "public_key"),
              "signer '" + s.name + "': this key is already trusted for role '" + s.role + "'");
  }
}

// An environment that requires approvals must not be reachable through another environment's address:
// an explorer deploy would then change what production serves.
void check_separation(TomlReader& r, const toml::table& root, const Config& c) {
  const toml::table* envs = root.get("environments") ? root.get("environments")->as_table() : nullptr;
  if (!envs) return;
  for (const auto& e : c.environments) {
    if (e.requires_roles.empty()) continue;
    const toml::table* et = envs->get(e.name) ? envs->get(e.name)->as_table() : nullptr;
    if (!et) continue;
    for (const auto& other : c.environments) {
      if (other.name == e.name) continue;
      for (const auto& [svc, url] : e.urls)
        for (const auto& [osvc, ourl] : other.urls)
          if (url == ourl)
            r.error(r.where(*et, "urls"),
                    "[environments." + e.name + "] requires approvals but its URL for '" + svc + "' (" + url +
                        ") is also " + other.name + "." + osvc + "'s: gated environments must be kept apart");
    }
  }
}

}  // namespace

void parse_gate(TomlReader& r, const toml::table& root, Config& c) {
  check_signers(r, root, c);
  check_separation(r, root, c);
  const toml::node* n = root.get("gate");
  if (!n) return;
  const toml::table* t = n->as_table();
  if (!t) {
    r.error_at(*n, "[gate] must be a table");
    return;
  }
  r.check_keys(*t, "[gate]", kGateKeys);
  r.get(*t, "override_role", c.gate.override_role);
  if (!valid_gate_name(c.gate.override_role))
    r.error(r.where(*t, "override_role"),
            "'override_role' must be a role name (letters, digits, - and _), such as \"conductor\"");
}

}  // namespace villager::config
