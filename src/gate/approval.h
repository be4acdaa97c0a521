#pragma once
// A signed approval: one signer's statement that one artifact may go to one environment in one role,
// until a given time. The file is JSON:
//   {"format": "villager-approval-v1", "payload": {...9 fields...}, "payload_sha256": HEX,
//    "signature": BASE64, "key": "sha256:<fingerprint of the signer's public key>"}
// The signature is Ed25519 over kSigningContext + canonical_payload() (docs/gate.md). payload_sha256 is no
// security control: it lets the gate tell a hand-edited record from a forged signature.

#include <chrono>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/error.h"
#include "base/hash.h"

namespace villager::gate {

inline constexpr std::string_view kApprovalFormat = "villager-approval-v1";
// Prefixed to the payload before signing, so an approval signature can never be replayed as anything else.
inline constexpr std::string_view kSigningContext = "villager-approval-v1\n";
// Limits the parser enforces; a file over them is refused unread.
inline constexpr size_t kMaxApprovalBytes = 16 * 1024;
inline constexpr size_t kMaxNoteBytes = 1024;
inline constexpr size_t kMaxVersionBytes = 128;
inline constexpr size_t kApprovalSignatureBytes = 64;  // Ed25519
// The longest validity `villager approve --expires` accepts.
inline constexpr std::chrono::hours kMaxApprovalValidity{24 * 30};

// The signed statement. Times have millisecond precision (RFC 3339 UTC in the payload).
struct Approval {
  Digest digest;  // of the artifact
  std::string service;
  std::string version;
  std::string environment;
  std::string role;
  std::string signer;  // the signer's name, as in [[signer]] name
  SystemTime issued_at;
  SystemTime expires_at;
  std::string note;  // free text, UTF-8
};

struct SignedApproval {
  Approval approval;
  std::string payload_sha256;   // hex, as written in the file
  std::string signature;        // 64 raw bytes
  std::string key_fingerprint;  // "sha256:<hex>"
};

// Canonical JSON of the payload: keys sorted, no whitespace, UTF-8, exactly the nine fields
// (digest, environment, expires_at, issued_at, note, role, service, signer, version). Stable: the same
// Approval always gives the same bytes. InvalidArgument when a field is not valid UTF-8.
Result<std::string> canonical_payload(const Approval& a);
// The bytes the signature covers: kSigningContext + canonical payload.
std::string signing_message(const std::string& canonical);

// The file text (pretty JSON, keys in a fixed order, trailing newline).
std::string approval_file_text(const SignedApproval& s, const std::string& canonical);

// Strict parser for an approval file. Every problem is InvalidArgument "approval SOURCE: ...": over
// kMaxApprovalBytes, not JSON, duplicate or unknown fields, missing fields, wrong types, bad base64 or
// hex, a bad digest, name or timestamp, a note over kMaxNoteBytes. It does not check the signature
// (verify_approval_signature does) nor whether payload_sha256 matches (payload_matches_hash does).
Result<SignedApproval> parse_approval(std::string_view text, const std::string& source);

// The one spelling of a payload time (RFC 3339 UTC with milliseconds, years 1970-2200), strictly; shared
// with waivers.
Result<SystemTime> parse_payload_time(const std::string& text);

// True when payload_sha256 is the hash of the payload's canonical form: false means it was edited.
bool payload_matches_hash(const SignedApproval& s);

}  // namespace villager::gate
