#pragma once
// Signing an Approval with a signer's key, and checking a signed one against a public key.

#include <string>

#include "base/error.h"
#include "gate/approval.h"
#include "gate/keys.h"

namespace villager::gate {

// Signs `a` with `key` (the approval's signer should be key.name). InvalidArgument for a payload that
// cannot be made canonical (invalid UTF-8 in the note).
Result<SignedApproval> sign_approval(const Approval& a, const KeyPair& key);

// True when the signature is `raw_public_key`'s over the canonical payload.
bool verify_approval_signature(const SignedApproval& s, const std::string& raw_public_key);

}  // namespace villager::gate
