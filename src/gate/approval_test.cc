#include "gate/approval.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "gate/keys.h"
#include "gate/signing.h"

namespace villager::gate {
namespace {

const std::string kDigest = "sha256:" + std::string(64, 'a');

Approval fixed_approval() {
  Approval a;
  a.digest = *Digest::parse(kDigest);
  a.service = "user";
  a.version = "v1.2.3";
  a.environment = "production";
  a.role = "qa";
  a.signer = "qa-lead";
  a.issued_at = from_unix_millis(1'790'000'000'000);
  a.expires_at = from_unix_millis(1'790'086'400'000);
  a.note = "smoke ok \xc3\xa9";  // UTF-8 stays as is
  return a;
}

std::string valid_file() {
  static KeyPair k = *generate_key("qa", "qa-lead");
  auto s = sign_approval(fixed_approval(), k);
  return approval_file_text(*s, *canonical_payload(s->approval));
}

TEST(Approval, CanonicalPayloadIsSortedCompactAndStable) {
  auto c = canonical_payload(fixed_approval());
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(*c,
            "{\"digest\":\"" + kDigest +
                "\",\"environment\":\"production\",\"expires_at\":\"2026-09-22T14:13:20.000Z\","
                "\"issued_at\":\"2026-09-21T14:13:20.000Z\",\"note\":\"smoke ok \xc3\xa9\",\"role\":\"qa\","
                "\"service\":\"user\",\"signer\":\"qa-lead\",\"version\":\"v1.2.3\"}");
  EXPECT_EQ(*c, *canonical_payload(fixed_approval()));
}

TEST(Approval, InvalidUtf8NoteIsRefused) {
  Approval a = fixed_approval();
  a.note = "\xff\xfe";
  EXPECT_FALSE(canonical_payload(a).has_value());
}

TEST(Approval, FileRoundTripsAndVerifies) {
  KeyPair k = *generate_key("qa", "qa-lead");
  auto s = sign_approval(fixed_approval(), k);
  ASSERT_TRUE(s.has_value());
  std::string text = approval_file_text(*s, *canonical_payload(s->approval));
  auto back = parse_approval(text, "x.json");
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_EQ(*canonical_payload(back->approval), *canonical_payload(fixed_approval()));
  EXPECT_TRUE(payload_matches_hash(*back));
  EXPECT_TRUE(verify_approval_signature(*back, k.public_key));
  KeyPair other = *generate_key("qa", "qa-lead");
  EXPECT_FALSE(verify_approval_signature(*back, other.public_key));
}

// Parses `j` (a changed valid file) and expects an error naming the file and containing `want`.
void expect_refused(const nlohmann::json& j, const std::string& want) {
  auto r = parse_approval(j.dump(), "approvals/x.json");
  ASSERT_FALSE(r.has_value()) << "accepted: " << j.dump();
  EXPECT_NE(r.error().message.find("approvals/x.json"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find(want), std::string::npos) << r.error().message;
}

TEST(Approval, ParserRefusesUnknownFields) {
  auto j = nlohmann::json::parse(valid_file());
  j["extra"] = 1;
  expect_refused(j, "unknown field 'extra'");
  j = nlohmann::json::parse(valid_file());
  j["payload"]["weight"] = "x";
  expect_refused(j, "unknown payload field 'weight'");
}

TEST(Approval, ParserRefusesMissingFieldsAndWrongTypes) {
  auto j = nlohmann::json::parse(valid_file());
  j.erase("signature");
  expect_refused(j, "missing field 'signature'");
  j = nlohmann::json::parse(valid_file());
  j["payload"]["issued_at"] = 12;
  expect_refused(j, "'issued_at' must be a string");
  j = nlohmann::json::parse(valid_file());
  j["payload"] = "x";
  expect_refused(j, "'payload' must be an object");
  expect_refused(nlohmann::json::array(), "must be a JSON object");
}

TEST(Approval, ParserRefusesBadEncodings) {
  auto j = nlohmann::json::parse(valid_file());
  j["signature"] = "not base64!";
  expect_refused(j, "'signature' is not canonical base64");
  j["signature"] = base64_encode("short");
  expect_refused(j, "'signature' must be 64 bytes");
  j = nlohmann::json::parse(valid_file());
  j["key"] = "sha256:XYZ";
  expect_refused(j, "'key'");
  j = nlohmann::json::parse(valid_file());
  j["payload"]["digest"] = "md5:abc";
  expect_refused(j, "'digest'");
  j = nlohmann::json::parse(valid_file());
  j["payload"]["expires_at"] = "2026-09-22 14:13:20";
  expect_refused(j, "'expires_at'");
  // Found by fuzzing: a year past 2262 overflowed system_clock's nanoseconds.
  j = nlohmann::json::parse(valid_file());
  j["payload"]["expires_at"] = "9999-09-22T14:13:20.000Z";
  expect_refused(j, "'expires_at'");
  j = nlohmann::json::parse(valid_file());
  j["payload"]["issued_at"] = "2026-09-21T14:13:20Z";
  expect_refused(j, "'issued_at'");
  j = nlohmann::json::parse(valid_file());
  j["payload"]["role"] = "../../etc";
  expect_refused(j, "'role' is not a valid name");
  j = nlohmann::json::parse(valid_file());
  j["payload"]["expires_at"] = j["payload"]["issued_at"];
  expect_refused(j, "not after");
}

TEST(Approval, ParserRefusesOversizeAndDuplicates) {
  auto j = nlohmann::json::parse(valid_file());
  j["payload"]["note"] = std::string(kMaxNoteBytes + 1, 'n');
  expect_refused(j, "'note' is longer than");
  std::string big = valid_file() + std::string(kMaxApprovalBytes, ' ');
  auto r = parse_approval(big, "big.json");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("larger than"), std::string::npos);
  std::string text = valid_file();
  text.insert(text.find('{') + 1, "\"format\": \"villager-approval-v1\",");
  r = parse_approval(text, "dup.json");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("appears twice"), std::string::npos) << r.error().message;
  EXPECT_FALSE(parse_approval("{\"format\":", "t.json").has_value());
}

TEST(Approval, EditedPayloadNoLongerMatchesItsHash) {
  auto j = nlohmann::json::parse(valid_file());
  j["payload"]["note"] = "edited";
  auto r = parse_approval(j.dump(), "x.json");
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(payload_matches_hash(*r));
}

}  // namespace
}  // namespace villager::gate
