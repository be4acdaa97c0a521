#include "gate/gate.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "artifact/manifest.h"
#include "base/hash.h"
#include "base/strings.h"
#include "gate/keys.h"
#include "gate/signers.h"
#include "gate/signing.h"

namespace villager::gate {

namespace {

ApprovalCheck reject(RejectCode code, std::string message) {
  return ApprovalCheck{false, code, std::move(message)};
}

// Whether a valid approval for `role` of this artifact exists; appends the reasons otherwise.
struct RoleResult {
  std::optional<UsedApproval> used;
  std::vector<GateReason> reasons;
};

RoleResult find_role_approval(const config::Config& config, const std::vector<StoredApproval>& stored,
                              const std::vector<StoredApproval>& everything, const GateArtifact& art,
                              const std::string& env, const std::string& role, SystemTime now) {
  RoleResult out;
  const StoredApproval* elsewhere = nullptr;  // filed for, and signed for, another environment
  for (const auto& sa : stored) {
    // A file that does not parse, or parses as this role, is a candidate; the role in the path is a hint
    // only.
    if (sa.parsed && sa.parsed->approval.role != role) continue;
    if (!sa.parsed && sa.path.filename().string().find("__" + role + "__") == std::string::npos) continue;
    if (sa.parsed && sa.parsed->approval.environment != env && sa.file_env != env) {
      if (!elsewhere) elsewhere = &sa;
      continue;
    }
    ApprovalCheck c = check_approval(config, sa, art.digest, env, now);
    if (c.valid) {
      const Approval& a = sa.parsed->approval;
      out.used = UsedApproval{art.service, role, a.signer, a.digest, a.issued_at, a.expires_at, sa.path};
      out.reasons.clear();
      return out;
    }
    out.reasons.push_back({art.service, role, *c.code, c.message});
  }
  if (!out.reasons.empty()) return out;
  if (elsewhere) {
    ApprovalCheck c = check_approval(config, *elsewhere, art.digest, env, now);
    out.reasons.push_back({art.service, role, *c.code, c.message});
    return out;
  }
  // Nothing for this digest: say so more precisely when the role approved another build of the service.
  for (const auto& sa : everything) {
    if (!sa.parsed) continue;
    const Approval& a = sa.parsed->approval;
    if (a.service == art.service && a.environment == env && a.role == role && a.digest != art.digest) {
      out.reasons.push_back({art.service, role, RejectCode::kOtherDigest,
                             a.signer + " approved " + art.service + " " + a.version + " (" +
                                 a.digest.short_form() + ") as " + role + ", not this artifact " +
                                 art.digest.short_form() + " (" + sa.path.string() + ")"});
      return out;
    }
  }
  out.reasons.push_back({art.service, role, RejectCode::kMissingRole,
                         "no approval by role '" + role + "' for " + art.service + " " +
                             art.digest.short_form() + " in environment '" + env + "' (villager approve " +
                             art.digest.full() + " --env " + env + " --role " + role + " --key FILE)"});
  return out;
}

}  // namespace

std::string_view reject_code_name(RejectCode code) {
  switch (code) {
    case RejectCode::kMissingRole:
      return "missing_role";
    case RejectCode::kUnknownSigner:
      return "unknown_signer";
    case RejectCode::kUntrustedSigner:
      return "untrusted_signer";
    case RejectCode::kBadSignature:
      return "bad_signature";
    case RejectCode::kEditedRecord:
      return "edited_record";
    case RejectCode::kOtherDigest:
      return "other_digest";
    case RejectCode::kOtherEnvironment:
      return "other_environment";
    case RejectCode::kExpired:
      return "expired";
    case RejectCode::kArtifactTampered:
      return "artifact_tampered";
    case RejectCode::kOverrideNeedsReason:
      return "override_needs_reason";
  }
  return "unknown";
}

std::string GateDecision::summary() const {
  std::string out;
  for (const auto& r : reasons) {
    out += r.service + ": ";
    if (!r.role.empty()) out += r.role + ": ";
    out += std::string(reject_code_name(r.code)) + ": " + r.message + "\n";
  }
  return out;
}

std::string decision_json(const GateDecision& d) {
  nlohmann::ordered_json j;
  j["allowed"] = d.allowed;
  j["overridden"] = d.overridden;
  j["override_reason"] = d.override_reason;
  j["last_approval_at"] = d.last_approval_at ? nlohmann::ordered_json(format_rfc3339(*d.last_approval_at))
                                             : nlohmann::ordered_json(nullptr);
  j["reasons"] = nlohmann::ordered_json::array();
  for (const auto& r : d.reasons)
    j["reasons"].push_back({{"service", r.service},
                            {"role", r.role},
                            {"code", reject_code_name(r.code)},
                            {"message", r.message}});
  j["approvals_used"] = nlohmann::ordered_json::array();
  for (const auto& u : d.approvals_used)
    j["approvals_used"].push_back({{"service", u.service},
                                   {"role", u.role},
                                   {"signer", u.signer},
                                   {"digest", u.digest.full()},
                                   {"issued_at", format_rfc3339(u.issued_at)},
                                   {"expires_at", format_rfc3339(u.expires_at)},
                                   {"path", u.path.string()}});
  // replace: a message quoting a damaged file must not make the record unwritable.
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

ApprovalCheck check_approval(const config::Config& config, const StoredApproval& stored, const Digest& digest,
                             const std::string& env, SystemTime now) {
  const std::string file = stored.path.string();
  // An unreadable record cannot be trusted in any part; it was damaged or edited by hand.
  if (!stored.parsed) return reject(RejectCode::kEditedRecord, stored.parse_error);
  const SignedApproval& s = *stored.parsed;
  const Approval& a = s.approval;

  if (!payload_matches_hash(s))
    return reject(RejectCode::kEditedRecord,
                  file + ": the payload was changed after it was signed (payload_sha256 does not match)");
  // The key decides who signed, never the names in the payload.
  const KeyHolders key = key_holders(config, s.key_fingerprint);
  if (key.empty())
    return reject(RejectCode::kUnknownSigner, unknown_key_message(file, s.key_fingerprint, config));
  if (!verify_approval_signature(s, key.raw_key))
    return reject(RejectCode::kBadSignature, file + ": the signature does not verify with " +
                                                 key.signers[0]->name + "'s public key (forged or altered)");
  if (!key.trusts(a.role, a.signer)) {
    std::vector<std::string> held;
    for (const auto* h : key.signers) held.push_back(h->name + " as " + h->role);
    return reject(RejectCode::kUntrustedSigner, file + ": signer '" + a.signer +
                                                    "' is not trusted for role '" + a.role +
                                                    "' (this key is trusted for: " + join(held, ", ") + ")");
  }
  if (a.digest != digest)
    return reject(RejectCode::kOtherDigest,
                  file + ": approves " + a.digest.short_form() + ", not " + digest.short_form());
  if (a.environment != env)
    return reject(RejectCode::kOtherEnvironment,
                  file + ": approves environment '" + a.environment + "', not '" + env + "'");
  if (now >= a.expires_at)
    return reject(RejectCode::kExpired, file + ": expired at " + format_rfc3339(a.expires_at));
  return ApprovalCheck{true, std::nullopt, ""};
}

Result<GateDecision> evaluate_gate(const config::Config& config, const std::string& env_name,
                                   const std::vector<GateArtifact>& artifacts, SystemTime now,
                                   const GateOptions& options) {
  const config::EnvironmentConfig* env = config.environment(env_name);
  if (!env) return InvalidArgument("gate: unknown environment '" + env_name + "'");
  const auto approvals_dir = config.state_dir() / "approvals";
  const auto store_dir = config.state_dir() / "artifacts";
  auto everything = list_approvals(approvals_dir);
  if (!everything) return everything.error().context("gate");

  GateDecision d;
  std::vector<GateReason> tampered;
  for (const auto& art : artifacts) {
    // The bytes must still be what was approved; the override never waives this.
    if (auto s = artifact::verify_artifact(store_dir, art.digest); !s.ok())
      tampered.push_back({art.service, "", RejectCode::kArtifactTampered, s.error().message});
    if (env->requires_roles.empty()) continue;
    std::vector<StoredApproval> for_digest;
    for (const auto& sa : *everything)
      if (sa.dir_digest == art.digest || (sa.parsed && sa.parsed->approval.digest == art.digest))
        for_digest.push_back(sa);
    for (const auto& role : env->requires_roles) {
      RoleResult r = find_role_approval(config, for_digest, *everything, art, env_name, role, now);
      if (r.used)
        d.approvals_used.push_back(*r.used);
      else
        d.reasons.insert(d.reasons.end(), r.reasons.begin(), r.reasons.end());
    }
  }

  bool approvals_ok = d.reasons.empty();
  if (!approvals_ok && options.override) {
    // Break-glass: a reason and a conductor's valid approval of each artifact for this environment.
    if (trim(options.reason).empty()) {
      d.reasons.push_back({"", "", RejectCode::kOverrideNeedsReason,
                           "--override needs --reason TEXT saying why the gate is bypassed"});
    } else {
      std::vector<GateReason> conductor_reasons;
      std::vector<UsedApproval> conductor_used;
      for (const auto& art : artifacts) {
        std::vector<StoredApproval> for_digest;
        for (const auto& sa : *everything)
          if (sa.dir_digest == art.digest || (sa.parsed && sa.parsed->approval.digest == art.digest))
            for_digest.push_back(sa);
        RoleResult r = find_role_approval(config, for_digest, *everything, art, env_name,
                                          config.gate.override_role, now);
        if (r.used)
          conductor_used.push_back(*r.used);
        else
          conductor_reasons.insert(conductor_reasons.end(), r.reasons.begin(), r.reasons.end());
      }
      if (conductor_reasons.empty()) {
        approvals_ok = true;
        d.overridden = true;
        d.override_reason = options.reason;
        d.approvals_used.insert(d.approvals_used.end(), conductor_used.begin(), conductor_used.end());
      } else {
        d.reasons.insert(d.reasons.end(), conductor_reasons.begin(), conductor_reasons.end());
      }
    }
  }
  d.reasons.insert(d.reasons.begin(), tampered.begin(), tampered.end());
  d.allowed = approvals_ok && tampered.empty();
  for (const auto& u : d.approvals_used)
    if (!d.last_approval_at || u.issued_at > *d.last_approval_at) d.last_approval_at = u.issued_at;
  return d;
}

Status check_monitoring_coverage(const config::Config& config, const std::string& env_name) {
  const config::EnvironmentConfig* env = config.environment(env_name);
  if (!env) return InvalidArgument("monitoring coverage: unknown environment '" + env_name + "'");
  std::vector<std::string> no_probe, no_alarm;
  for (const auto& name : config.services_of(*env)) {
    const config::ServiceConfig* s = config.service(name);
    if (!s) continue;
    if (s->health_path.empty()) no_probe.push_back(name);
    bool alarmed =
        std::any_of(config.monitor.alarms.begin(), config.monitor.alarms.end(),
                    [&](const config::AlarmConfig& a) { return a.service.empty() || a.service == name; });
    if (!alarmed) no_alarm.push_back(name);
  }
  if (no_probe.empty() && no_alarm.empty()) return Ok();
  std::vector<std::string> parts;
  if (!no_probe.empty()) parts.push_back("no health probe (health_path) for: " + join(no_probe, ", "));
  if (!no_alarm.empty())
    parts.push_back("no [[monitor.alarm]] applies to: " + join(no_alarm, ", ") +
                    " (add one with service = \"NAME\" or without service)");
  return FailedPrecondition("environment '" + env_name + "' is not monitored: " + join(parts, "; "));
}

}  // namespace villager::gate
