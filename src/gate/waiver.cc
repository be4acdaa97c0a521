#include "gate/waiver.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "base/fs.h"
#include "base/hash.h"
#include "base/strings.h"
#include "gate/approval.h"
#include "gate/names.h"
#include "gate/signed_file.h"
#include "gate/signers.h"

namespace villager::gate {

namespace {

using json = nlohmann::json;

constexpr size_t kFingerprintHex = 20;
const std::set<std::string> kPayloadFields = {"check", "environment", "expires_at", "finding", "issued_at",
                                              "note",  "role",        "service",    "signer"};

WaiverCheck refuse(std::string code, std::string message) {
  return WaiverCheck{false, std::move(code), std::move(message)};
}

Status parse_payload(const json& p, Waiver& w) {
  if (!p.is_object()) return InvalidArgument("'payload' must be an object");
  for (auto it = p.begin(); it != p.end(); ++it)
    if (!kPayloadFields.count(it.key())) return InvalidArgument("unknown payload field '" + it.key() + "'");
  for (const auto& f : kPayloadFields) {
    if (!p.contains(f)) return InvalidArgument("missing payload field '" + f + "'");
    if (!p[f].is_string()) return InvalidArgument("payload field '" + f + "' must be a string");
  }
  w.finding = p["finding"].get<std::string>();
  if (!valid_finding_fingerprint(w.finding))
    return InvalidArgument("payload field 'finding' must be \"fp:\" and 20 lowercase hex digits");
  w.check = p["check"].get<std::string>();
  w.service = p["service"].get<std::string>();
  w.environment = p["environment"].get<std::string>();
  w.role = p["role"].get<std::string>();
  w.signer = p["signer"].get<std::string>();
  for (const auto& [field, value] : {std::pair<const char*, const std::string&>{"check", w.check},
                                     {"service", w.service},
                                     {"environment", w.environment},
                                     {"role", w.role},
                                     {"signer", w.signer}})
    if (!valid_name(value))
      return InvalidArgument(std::string("payload field '") + field + "' is not a valid name");
  w.note = p["note"].get<std::string>();
  if (w.note.size() > kMaxWaiverNoteBytes)
    return InvalidArgument("payload field 'note' is longer than " + std::to_string(kMaxWaiverNoteBytes) +
                           " bytes");
  auto issued = parse_payload_time(p["issued_at"].get<std::string>());
  if (!issued) return issued.error().context("payload field 'issued_at'");
  auto expires = parse_payload_time(p["expires_at"].get<std::string>());
  if (!expires) return expires.error().context("payload field 'expires_at'");
  w.issued_at = *issued;
  w.expires_at = *expires;
  if (w.expires_at <= w.issued_at) return InvalidArgument("payload: 'expires_at' is not after 'issued_at'");
  return Ok();
}

std::string fp_hex(const std::string& fp) {
  return starts_with(fp, "fp:") ? fp.substr(3) : fp;
}

}  // namespace

bool valid_finding_fingerprint(std::string_view fp) {
  return starts_with(fp, "fp:") && is_lower_hex(fp.substr(3), kFingerprintHex);
}

Result<std::string> canonical_waiver_payload(const Waiver& w) {
  json p{{"check", w.check},
         {"environment", w.environment},
         {"expires_at", format_rfc3339(w.expires_at)},
         {"finding", w.finding},
         {"issued_at", format_rfc3339(w.issued_at)},
         {"note", w.note},
         {"role", w.role},
         {"service", w.service},
         {"signer", w.signer}};
  try {
    return p.dump(-1, ' ', false, json::error_handler_t::strict);
  } catch (const json::exception& e) {
    return InvalidArgument(std::string("waiver payload: ") + e.what());
  }
}

Result<SignedWaiver> sign_waiver(const Waiver& w, const KeyPair& key) {
  auto canonical = canonical_waiver_payload(w);
  if (!canonical) return canonical.error();
  SignedWaiver s;
  s.waiver = w;
  s.payload_sha256 = sha256_hex(*canonical);
  s.signature = sign_detached(key, std::string(kWaiverSigningContext) + *canonical);
  s.key_fingerprint = key_fingerprint(key.public_key);
  return s;
}

Result<SignedWaiver> parse_waiver(std::string_view text, const std::string& source) {
  auto fail = [&](const std::string& why) { return InvalidArgument("waiver " + source + ": " + why); };
  if (text.size() > kMaxWaiverBytes) return fail("larger than " + std::to_string(kMaxWaiverBytes) + " bytes");
  auto envelope = parse_signed_envelope(text, kWaiverFormat);
  if (!envelope) return fail(envelope.error().message);
  SignedWaiver s;
  s.key_fingerprint = std::move(envelope->key_fingerprint);
  s.payload_sha256 = std::move(envelope->payload_sha256);
  s.signature = std::move(envelope->signature);
  if (auto st = parse_payload(envelope->payload, s.waiver); !st.ok()) return fail(st.error().message);
  return s;
}

Result<std::filesystem::path> write_waiver(const std::filesystem::path& waivers_dir, const SignedWaiver& s) {
  auto canonical = canonical_waiver_payload(s.waiver);
  if (!canonical) return canonical.error();
  const Waiver& w = s.waiver;
  auto path = waivers_dir / fp_hex(w.finding) / (w.environment + "__" + w.role + "__" + w.signer + ".json");
  std::string text =
      signed_envelope_text(kWaiverFormat, *canonical, s.payload_sha256, s.signature, s.key_fingerprint);
  if (auto st = ensure_dir(path.parent_path()); !st.ok()) return st.error().context("writing waiver");
  if (auto st = write_file_atomic(path, text, fs::perms(0644)); !st.ok())
    return st.error().context("writing waiver " + path.string());
  return path;
}

Result<std::vector<StoredWaiver>> list_waivers(const std::filesystem::path& waivers_dir) {
  std::vector<StoredWaiver> out;
  std::error_code ec;
  if (!std::filesystem::is_directory(waivers_dir, ec)) return out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(waivers_dir, ec)) {
    if (!e.is_regular_file(ec) || e.path().extension() != ".json") continue;
    StoredWaiver sw;
    sw.path = e.path();
    std::string dir = e.path().parent_path().filename().string();
    if (valid_finding_fingerprint("fp:" + dir)) sw.dir_finding = "fp:" + dir;
    // Refuse an oversize file unread: the folder may hold files carried in from elsewhere.
    auto size = std::filesystem::file_size(e.path(), ec);
    if (ec || size > kMaxWaiverBytes) {
      sw.parse_error = "waiver " + e.path().string() + ": " +
                       (ec ? ec.message() : "larger than " + std::to_string(kMaxWaiverBytes) + " bytes");
      ec.clear();
    } else if (auto text = read_file(e.path()); !text) {
      sw.parse_error = text.error().message;
    } else if (auto p = parse_waiver(*text, e.path().string()); !p) {
      sw.parse_error = p.error().message;
    } else {
      sw.parsed = std::move(*p);
    }
    out.push_back(std::move(sw));
  }
  if (ec) return Internal("listing waivers in " + waivers_dir.string() + ": " + ec.message());
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
  return out;
}

WaiverCheck check_waiver(const config::Config& config, const StoredWaiver& sw, const std::string& env_name,
                         SystemTime now) {
  const std::string file = sw.path.string();
  if (!sw.parsed) return refuse("edited_record", sw.parse_error);
  const SignedWaiver& s = *sw.parsed;
  const Waiver& w = s.waiver;
  auto canonical = canonical_waiver_payload(w);
  if (!canonical || sha256_hex(*canonical) != s.payload_sha256)
    return refuse("edited_record",
                  file + ": the payload was changed after it was signed (payload_sha256 does not match)");
  // The key decides who signed, never the names in the payload.
  const KeyHolders key = key_holders(config, s.key_fingerprint);
  if (key.empty()) return refuse("unknown_signer", unknown_key_message(file, s.key_fingerprint, config));
  if (!verify_detached(key.raw_key, std::string(kWaiverSigningContext) + *canonical, s.signature))
    return refuse("bad_signature", file + ": the signature does not verify with " + key.signers[0]->name +
                                       "'s public key (forged or altered)");
  if (!key.trusts(w.role, w.signer))
    return refuse("untrusted_signer",
                  file + ": signer '" + w.signer + "' is not a [[signer]] of role '" + w.role + "'");
  const config::EnvironmentConfig* env = config.environment(env_name);
  const std::vector<std::string> accepted = env ? env->waiver_roles : std::vector<std::string>{};
  if (std::find(accepted.begin(), accepted.end(), w.role) == accepted.end())
    return refuse("role_not_accepted", file + ": signed as role '" + w.role + "', but environment '" +
                                           env_name + "' takes waivers " +
                                           (accepted.empty() ? std::string("from no role (set waiver_roles)")
                                                             : "only from " + join(accepted, ", ")));
  if (w.environment != env_name)
    return refuse("other_environment",
                  file + ": waives for environment '" + w.environment + "', not '" + env_name + "'");
  if (w.expires_at - w.issued_at > kMaxWaiverValidity)
    return refuse("too_long", file + ": valid for longer than 30 days");
  if (now >= w.expires_at) return refuse("expired", file + ": expired at " + format_rfc3339(w.expires_at));
  return WaiverCheck{true, "", ""};
}

FindingWaivers evaluate_waivers(const config::Config& config, const std::vector<StoredWaiver>& stored,
                                const std::string& env_name, const std::string& check,
                                const std::string& service, const std::string& fingerprint, SystemTime now) {
  FindingWaivers out;
  std::map<std::string, std::vector<const Waiver*>> valid;  // role -> waivers
  for (const auto& sw : stored) {
    // A waiver for another finding, check or service is simply not about this one.
    if (sw.parsed) {
      const Waiver& w = sw.parsed->waiver;
      if (w.finding != fingerprint || w.check != check || w.service != service) continue;
    } else if (sw.dir_finding != fingerprint) {
      continue;
    }
    WaiverCheck c = check_waiver(config, sw, env_name, now);
    if (c.valid)
      valid[sw.parsed->waiver.role].push_back(&sw.parsed->waiver);
    else
      out.refused.push_back(c.code + ": " + c.message);
  }
  if (valid.empty()) return out;
  const auto* env = config.environment(env_name);
  std::vector<std::string> by, notes;
  bool first = true;
  for (const auto& role : env->waiver_roles) {
    auto it = valid.find(role);
    if (it == valid.end()) {
      out.refused.push_back("missing_role: no valid waiver by role '" + role + "' for " + fingerprint);
      continue;
    }
    for (const Waiver* w : it->second) {
      by.push_back(w->signer + " (" + w->role + ")");
      if (!w->note.empty()) notes.push_back(w->note);
      if (first || w->expires_at < out.until) out.until = w->expires_at;
      first = false;
    }
  }
  out.waived = std::all_of(env->waiver_roles.begin(), env->waiver_roles.end(),
                           [&](const std::string& r) { return valid.count(r) > 0; });
  out.by = join(by, ", ");
  out.note = join(notes, "; ");
  return out;
}

}  // namespace villager::gate
