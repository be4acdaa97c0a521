#pragma once
// The release gate: may these artifacts go to this environment now? For every service artifact and every
// role the environment requires, some approval must be valid: parsed strictly, signed by a key of a
// [[signer]] (unknown_signer), with a good signature over an unedited payload (edited_record,
// bad_signature), by a signer trusted for that role (untrusted_signer), for exactly this digest
// (other_digest) and environment (other_environment), and unexpired at `now` (expired). The artifact's
// bytes must still hash to the approved digest (artifact_tampered). Break-glass: with override and a
// reason, a valid approval by a signer of [gate] override_role stands in for the missing roles; it never
// excuses a tampered artifact. docs/gate.md is the full rule book.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/error.h"
#include "base/hash.h"
#include "config/config.h"
#include "gate/approvals_dir.h"

namespace villager::gate {

enum class RejectCode {
  kMissingRole,
  kUnknownSigner,
  kUntrustedSigner,
  kBadSignature,
  kEditedRecord,
  kOtherDigest,
  kOtherEnvironment,
  kExpired,
  kArtifactTampered,
  kOverrideNeedsReason,
};
// "missing_role", "unknown_signer", ... (the names in JSON and docs/gate.md).
std::string_view reject_code_name(RejectCode code);

struct GateArtifact {
  std::string service;
  Digest digest;
  std::string version;
};

struct GateOptions {
  bool override = false;
  std::string reason;  // required with override
};

struct GateReason {
  std::string service;
  std::string role;  // empty for artifact_tampered
  RejectCode code;
  std::string message;  // one readable line naming the file or signer when there is one
};

struct UsedApproval {
  std::string service;
  std::string role;
  std::string signer;
  Digest digest;
  SystemTime issued_at;
  SystemTime expires_at;
  std::filesystem::path path;
};

struct GateDecision {
  bool allowed = false;
  bool overridden = false;          // allowed only through break-glass
  std::string override_reason;      // as given, when overridden
  std::vector<GateReason> reasons;  // why not (when overridden: what the override waived)
  std::vector<UsedApproval> approvals_used;
  // The latest issued_at among approvals_used: "approval" in approval-to-deployed. Unset when none was
  // needed or used.
  std::optional<SystemTime> last_approval_at;

  // One line per reason: "user: qa: missing_role: no approval ...".
  std::string summary() const;
};

// The decision as JSON for the deployment record and `deploy --json`: {"allowed", "overridden",
// "override_reason", "last_approval_at" (RFC 3339 or null), "reasons": [{"service", "role", "code",
// "message"}], "approvals_used": [{"service", "role", "signer", "digest", "issued_at", "expires_at",
// "path"}]}.
std::string decision_json(const GateDecision& d);

// The result of checking one stored approval for a given digest and environment.
struct ApprovalCheck {
  bool valid = false;
  std::optional<RejectCode> code;  // set when !valid
  std::string message;
};

// Checks one approval file for `digest` and `env` at `now`, in the order: parse, unedited payload, known
// key, signature, trusted for its role, digest, environment, expiry.
ApprovalCheck check_approval(const config::Config& config, const StoredApproval& stored, const Digest& digest,
                             const std::string& env, SystemTime now);

// The gate for deploying `artifacts` to environment `env` at `now`. Reads approvals from
// <state_dir>/approvals and verifies artifacts in <state_dir>/artifacts. Fails (Result error) only for an
// unknown environment or an unreadable approvals folder; every rejection is a value in the decision.
Result<GateDecision> evaluate_gate(const config::Config& config, const std::string& env,
                                   const std::vector<GateArtifact>& artifacts, SystemTime now,
                                   const GateOptions& options = {});

// Part of "monitoring before production": every service of `env` (its listen or urls keys; all services
// when it names none) needs a health_path and at least one [[monitor.alarm]] that applies to it (service
// empty or equal). FailedPrecondition naming each uncovered service otherwise.
Status check_monitoring_coverage(const config::Config& config, const std::string& env);

}  // namespace villager::gate
