#include "gate/signed_file.h"

#include <algorithm>
#include <set>
#include <vector>

#include "base/hash.h"
#include "base/strings.h"
#include "gate/keys.h"

namespace villager::gate {

namespace {

using json = nlohmann::json;

const std::set<std::string> kEnvelopeFields = {"format", "key", "payload", "payload_sha256", "signature"};

// Duplicate keys would let two readers see two different records: the callback spots them while parsing.
Result<json> parse_unique(std::string_view text) {
  std::vector<std::set<std::string>> seen;
  std::string duplicate;
  auto cb = [&](int, json::parse_event_t ev, json& parsed) {
    if (ev == json::parse_event_t::object_start) {
      seen.emplace_back();
    } else if (ev == json::parse_event_t::object_end) {
      if (!seen.empty()) seen.pop_back();
    } else if (ev == json::parse_event_t::key && !seen.empty() && parsed.is_string()) {
      if (!seen.back().insert(parsed.get<std::string>()).second && duplicate.empty())
        duplicate = parsed.get<std::string>();
    }
    return true;
  };
  json j;
  try {
    j = json::parse(text.begin(), text.end(), cb);
  } catch (const json::exception& e) {
    return InvalidArgument(std::string("not valid JSON: ") + e.what());
  }
  if (!duplicate.empty()) return InvalidArgument("field '" + duplicate + "' appears twice");
  return j;
}

}  // namespace

bool is_lower_hex(std::string_view s, size_t len) {
  return s.size() == len && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

Result<SignedEnvelope> parse_signed_envelope(std::string_view text, std::string_view format) {
  auto parsed = parse_unique(text);
  if (!parsed) return parsed.error();
  json& j = *parsed;
  if (!j.is_object()) return InvalidArgument("must be a JSON object");
  for (auto it = j.begin(); it != j.end(); ++it)
    if (!kEnvelopeFields.count(it.key())) return InvalidArgument("unknown field '" + it.key() + "'");
  for (const auto& f : kEnvelopeFields)
    if (!j.contains(f)) return InvalidArgument("missing field '" + f + "'");
  for (const auto& f : {"format", "key", "payload_sha256", "signature"})
    if (!j[f].is_string()) return InvalidArgument("field '" + std::string(f) + "' must be a string");
  if (j["format"].get<std::string>() != format)
    return InvalidArgument("format must be \"" + std::string(format) + "\"");

  SignedEnvelope e;
  e.key_fingerprint = j["key"].get<std::string>();
  if (!Digest::parse(e.key_fingerprint))
    return InvalidArgument("'key' must be \"sha256:\" and 64 lowercase hex digits");
  e.payload_sha256 = j["payload_sha256"].get<std::string>();
  if (!is_lower_hex(e.payload_sha256, 64))
    return InvalidArgument("'payload_sha256' must be 64 lowercase hex digits");
  std::string sig_text = j["signature"].get<std::string>();
  auto sig = base64_decode(sig_text);
  if (!sig || base64_encode(*sig) != sig_text) return InvalidArgument("'signature' is not canonical base64");
  if (sig->size() != kSignatureBytes) return InvalidArgument("'signature' must be 64 bytes");
  e.signature = std::move(*sig);
  e.payload = std::move(j["payload"]);
  return e;
}

std::string signed_envelope_text(std::string_view format, const std::string& canonical,
                                 const std::string& payload_sha256, const std::string& signature,
                                 const std::string& key_fingerprint) {
  nlohmann::ordered_json j;
  j["format"] = format;
  // Parsed back from the canonical text so the file shows the same (sorted) field order.
  j["payload"] = nlohmann::ordered_json::parse(canonical);
  j["payload_sha256"] = payload_sha256;
  j["signature"] = base64_encode(signature);
  j["key"] = key_fingerprint;
  return j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::strict) + "\n";
}

}  // namespace villager::gate
