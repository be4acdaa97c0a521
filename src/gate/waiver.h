#pragma once
// A signed waiver: one signer's statement, in one role, that one smoke finding (by its fingerprint, of
// one check and service) may pass in one environment until a given time, and why. The file is JSON:
//   {"format": "villager-waiver-v1", "payload": {...9 fields...}, "payload_sha256": HEX,
//    "signature": BASE64, "key": "sha256:<fingerprint of the signer's public key>"}
// The signature is Ed25519 over kWaiverSigningContext + canonical payload; the context differs from an
// approval's, so neither record can stand in for the other. Waivers live in
// <state_dir>/waivers/<finding hex>/<env>__<role>__<signer>.json; the check trusts the signed payload,
// never the path. docs/smoke.md ("Waivers") is the rule book.

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/error.h"
#include "config/config.h"
#include "gate/keys.h"

namespace villager::gate {

inline constexpr std::string_view kWaiverFormat = "villager-waiver-v1";
inline constexpr std::string_view kWaiverSigningContext = "villager-waiver-v1\n";
inline constexpr size_t kMaxWaiverBytes = 16 * 1024;
inline constexpr size_t kMaxWaiverNoteBytes = 1024;
// The longest validity a waiver may have: a known finding is accepted for a while, never for good.
inline constexpr std::chrono::hours kMaxWaiverValidity{24 * 30};

struct Waiver {
  std::string finding;  // "fp:<20 hex>" (smoke::finding_fingerprint)
  std::string check;    // "cors"
  std::string service;
  std::string environment;
  std::string role;
  std::string signer;
  SystemTime issued_at;
  SystemTime expires_at;
  std::string note;  // why: required, UTF-8
};

struct SignedWaiver {
  Waiver waiver;
  std::string payload_sha256;
  std::string signature;        // 64 raw bytes
  std::string key_fingerprint;  // "sha256:<hex>"
};

// True for "fp:" and 20 lowercase hex digits.
bool valid_finding_fingerprint(std::string_view fp);

// Canonical JSON (sorted keys, no whitespace) of the nine payload fields; InvalidArgument for invalid UTF-8.
Result<std::string> canonical_waiver_payload(const Waiver& w);
Result<SignedWaiver> sign_waiver(const Waiver& w, const KeyPair& key);
// Strict parser: "waiver SOURCE: ..." for oversize, non-JSON, duplicate/unknown/missing fields, bad
// names, fingerprint, times or base64. Does not check the signature or the hash.
Result<SignedWaiver> parse_waiver(std::string_view text, const std::string& source);

// Writes the waiver (mode 0644) to its place; replaces one by the same signer for the same finding,
// environment and role. Returns the path.
Result<std::filesystem::path> write_waiver(const std::filesystem::path& waivers_dir, const SignedWaiver& s);

struct StoredWaiver {
  std::filesystem::path path;
  std::string dir_finding;  // "fp:<hex>" from the folder name ("" when it is not one)
  std::optional<SignedWaiver> parsed;
  std::string parse_error;
};
// Every *.json under the waivers folder, sorted by path; a missing folder is an empty list.
Result<std::vector<StoredWaiver>> list_waivers(const std::filesystem::path& waivers_dir);

// One waiver checked for environment `env` at `now`: parsed, unedited, signed by a [[signer]]'s key with
// a good signature, that signer trusted for the waiver's role, the role one of env's waiver_roles, for
// this environment, at most kMaxWaiverValidity long and unexpired. `message` says why not.
struct WaiverCheck {
  bool valid = false;
  std::string code;  // "edited_record", "unknown_signer", "bad_signature", "untrusted_signer",
                     // "role_not_accepted", "other_environment", "too_long", "expired"
  std::string message;
};
WaiverCheck check_waiver(const config::Config& config, const StoredWaiver& w, const std::string& env,
                         SystemTime now);

// What the waivers filed for one finding amount to: waived when every role of env's waiver_roles has a
// valid waiver for exactly this check, service and fingerprint.
struct FindingWaivers {
  bool waived = false;
  std::string by;                    // "appsec-lead (appsec)"
  std::string note;                  // the notes, "; "-joined
  SystemTime until;                  // the earliest expiry among the waivers used
  std::vector<std::string> refused;  // one line per waiver not accepted, and per role still missing
};
FindingWaivers evaluate_waivers(const config::Config& config, const std::vector<StoredWaiver>& stored,
                                const std::string& env, const std::string& check, const std::string& service,
                                const std::string& fingerprint, SystemTime now);

}  // namespace villager::gate
