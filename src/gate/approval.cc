#include "gate/approval.h"

#include <cctype>
#include <nlohmann/json.hpp>
#include <set>
#include <vector>

#include "base/hash.h"
#include "base/strings.h"
#include "gate/names.h"
#include "gate/signed_file.h"

namespace villager::gate {

namespace {

using json = nlohmann::json;

constexpr std::string_view kMinYear = "1970";
constexpr std::string_view kMaxYear = "2200";

const std::set<std::string> kPayloadFields = {"digest", "environment", "expires_at", "issued_at", "note",
                                              "role",   "service",     "signer",     "version"};

// Only the exact form format_rfc3339 writes is accepted, so one instant has one spelling. The shape and
// year are checked first: system_clock counts nanoseconds and overflows after 2262 (found by fuzzing).
Result<SystemTime> strict_time(const std::string& text) {
  static constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd.dddZ";
  bool shaped = text.size() == kShape.size();
  for (size_t i = 0; shaped && i < text.size(); ++i)
    shaped = kShape[i] == 'd' ? std::isdigit(static_cast<unsigned char>(text[i])) != 0 : text[i] == kShape[i];
  if (!shaped || text.compare(0, 4, kMinYear) < 0 || text.compare(0, 4, kMaxYear) > 0)
    return InvalidArgument("bad timestamp '" + text + "' (expected e.g. 2026-01-02T03:04:05.000Z, years " +
                           std::string(kMinYear) + "-" + std::string(kMaxYear) + ")");
  auto t = parse_rfc3339(text);
  if (!t || format_rfc3339(*t) != text)
    return InvalidArgument("bad timestamp '" + text + "' (expected e.g. 2026-01-02T03:04:05.000Z)");
  return t;
}

json payload_json(const Approval& a) {
  // nlohmann::json objects are std::map-backed: keys come out sorted.
  return json{{"digest", a.digest.full()},
              {"environment", a.environment},
              {"expires_at", format_rfc3339(a.expires_at)},
              {"issued_at", format_rfc3339(a.issued_at)},
              {"note", a.note},
              {"role", a.role},
              {"service", a.service},
              {"signer", a.signer},
              {"version", a.version}};
}

}  // namespace

Result<std::string> canonical_payload(const Approval& a) {
  try {
    // indent -1: no whitespace; ensure_ascii false: UTF-8 as is; strict error handler: invalid UTF-8 throws.
    return payload_json(a).dump(-1, ' ', false, json::error_handler_t::strict);
  } catch (const json::exception& e) {
    return InvalidArgument(std::string("approval payload: ") + e.what());
  }
}

std::string signing_message(const std::string& canonical) {
  return std::string(kSigningContext) + canonical;
}

std::string approval_file_text(const SignedApproval& s, const std::string& canonical) {
  return signed_envelope_text(kApprovalFormat, canonical, s.payload_sha256, s.signature, s.key_fingerprint);
}

Result<SignedApproval> parse_approval(std::string_view text, const std::string& source) {
  auto fail = [&](const std::string& why) { return InvalidArgument("approval " + source + ": " + why); };
  if (text.size() > kMaxApprovalBytes)
    return fail("larger than " + std::to_string(kMaxApprovalBytes) + " bytes");
  auto envelope = parse_signed_envelope(text, kApprovalFormat);
  if (!envelope) return fail(envelope.error().message);
  SignedApproval s;
  s.key_fingerprint = std::move(envelope->key_fingerprint);
  s.payload_sha256 = std::move(envelope->payload_sha256);
  s.signature = std::move(envelope->signature);

  const json& p = envelope->payload;
  if (!p.is_object()) return fail("'payload' must be an object");
  for (auto it = p.begin(); it != p.end(); ++it)
    if (!kPayloadFields.count(it.key())) return fail("unknown payload field '" + it.key() + "'");
  for (const auto& f : kPayloadFields) {
    if (!p.contains(f)) return fail("missing payload field '" + f + "'");
    if (!p[f].is_string()) return fail("payload field '" + f + "' must be a string");
  }
  Approval& a = s.approval;
  auto digest = Digest::parse(p["digest"].get<std::string>());
  if (!digest) return fail("payload field 'digest' must be \"sha256:\" and 64 lowercase hex digits");
  a.digest = std::move(*digest);
  a.service = p["service"].get<std::string>();
  a.environment = p["environment"].get<std::string>();
  a.role = p["role"].get<std::string>();
  a.signer = p["signer"].get<std::string>();
  for (const auto& [field, value] : {std::pair<const char*, const std::string&>{"service", a.service},
                                     {"environment", a.environment},
                                     {"role", a.role},
                                     {"signer", a.signer}})
    if (!valid_name(value)) return fail(std::string("payload field '") + field + "' is not a valid name");
  a.version = p["version"].get<std::string>();
  if (a.version.size() > kMaxVersionBytes) return fail("payload field 'version' is too long");
  a.note = p["note"].get<std::string>();
  if (a.note.size() > kMaxNoteBytes)
    return fail("payload field 'note' is longer than " + std::to_string(kMaxNoteBytes) + " bytes");
  auto issued = strict_time(p["issued_at"].get<std::string>());
  if (!issued) return fail("payload field 'issued_at': " + issued.error().message);
  auto expires = strict_time(p["expires_at"].get<std::string>());
  if (!expires) return fail("payload field 'expires_at': " + expires.error().message);
  a.issued_at = *issued;
  a.expires_at = *expires;
  if (a.expires_at <= a.issued_at) return fail("payload: 'expires_at' is not after 'issued_at'");
  return s;
}

Result<SystemTime> parse_payload_time(const std::string& text) {
  return strict_time(text);
}

bool payload_matches_hash(const SignedApproval& s) {
  auto canonical = canonical_payload(s.approval);
  return canonical && sha256_hex(*canonical) == s.payload_sha256;
}

}  // namespace villager::gate
