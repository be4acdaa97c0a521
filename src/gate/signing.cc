#include "gate/signing.h"

#include "base/hash.h"

namespace villager::gate {

Result<SignedApproval> sign_approval(const Approval& a, const KeyPair& key) {
  auto canonical = canonical_payload(a);
  if (!canonical) return canonical.error();
  SignedApproval s;
  s.approval = a;
  s.payload_sha256 = sha256_hex(*canonical);
  s.signature = sign_detached(key, signing_message(*canonical));
  s.key_fingerprint = key_fingerprint(key.public_key);
  return s;
}

bool verify_approval_signature(const SignedApproval& s, const std::string& raw_public_key) {
  auto canonical = canonical_payload(s.approval);
  return canonical && verify_detached(raw_public_key, signing_message(*canonical), s.signature);
}

}  // namespace villager::gate
