#include "gate/waiver.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "base/strings.h"
#include "gate/keys.h"
#include "testutil/temp_dir.h"

namespace villager::gate {
namespace {

using std::chrono::hours;

constexpr const char* kFp = "fp:0123456789abcdef0123";
constexpr const char* kOtherFp = "fp:ffffffffffffffffffff";

// A project whose production takes waivers from appsec; signers for appsec and qa. `stranger_` is a key
// no [[signer]] holds. Times are fixed: the waivers' validity is measured against `now_`.
class WaiverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    appsec_ = *generate_key("appsec", "sec-lead");
    qa_ = *generate_key("qa", "qa-lead");
    stranger_ = *generate_key("appsec", "mallory");
    load(R"(waiver_roles = ["appsec"])");
  }

  void load(const std::string& production_extra) {
    std::string text = R"(
[project]
name = "t"
version_file = "version"
[services.user]
[environments.production]
target = "url"
urls = { user = "https://send.example" }
)" + production_extra + R"(
[environments.staging]
target = "url"
urls = { user = "https://staging.send.example" }
waiver_roles = ["appsec"]
)" + signer_toml(appsec_) +
                       signer_toml(qa_);
    auto c = config::parse_config(text, dir_ / "villager.toml");
    ASSERT_TRUE(c.has_value()) << c.error().message;
    cfg_ = *c;
  }

  Waiver waiver(const KeyPair& k, const std::string& env = "production", hours valid = hours(24 * 14)) {
    return Waiver{kFp,
                  "cors",
                  "user",
                  env,
                  k.role,
                  k.name,
                  now_ - hours(1),
                  now_ - hours(1) + valid,
                  "RF-09, fix in v0.4"};
  }

  // Signs and stores `w`; returns its path.
  std::filesystem::path file(const Waiver& w, const KeyPair& k) {
    auto s = sign_waiver(w, k);
    EXPECT_TRUE(s.has_value());
    auto p = write_waiver(cfg_.state_dir() / "waivers", *s);
    EXPECT_TRUE(p.has_value()) << (p ? "" : p.error().message);
    return p ? *p : std::filesystem::path();
  }

  FindingWaivers evaluate(const std::string& fp = kFp, const std::string& env = "production") {
    auto stored = list_waivers(cfg_.state_dir() / "waivers");
    EXPECT_TRUE(stored.has_value());
    return evaluate_waivers(cfg_, *stored, env, "cors", "user", fp, now_);
  }

  static std::string refused(const FindingWaivers& f) { return join(f.refused, "\n"); }

  TempDir dir_;
  config::Config cfg_;
  KeyPair appsec_, qa_, stranger_;
  SystemTime now_ = from_unix_millis(1'790'000'000'000);
};

TEST_F(WaiverTest, AValidWaiverWaivesExactlyItsFinding) {
  file(waiver(appsec_), appsec_);
  auto f = evaluate();
  EXPECT_TRUE(f.waived) << refused(f);
  EXPECT_EQ(f.by, "sec-lead (appsec)");
  EXPECT_EQ(f.note, "RF-09, fix in v0.4");
  EXPECT_EQ(f.until, waiver(appsec_).expires_at);
  // Another fingerprint, check or service is not covered.
  EXPECT_FALSE(evaluate(kOtherFp).waived);
  auto stored = *list_waivers(cfg_.state_dir() / "waivers");
  EXPECT_FALSE(evaluate_waivers(cfg_, stored, "production", "auth", "user", kFp, now_).waived);
  EXPECT_FALSE(evaluate_waivers(cfg_, stored, "production", "cors", "admin", kFp, now_).waived);
}

TEST_F(WaiverTest, AForgedSignatureIsRefused) {
  auto s = *sign_waiver(waiver(appsec_), appsec_);
  s.signature[0] = static_cast<char>(s.signature[0] ^ 1);
  ASSERT_TRUE(write_waiver(cfg_.state_dir() / "waivers", s).has_value());
  auto f = evaluate();
  EXPECT_FALSE(f.waived);
  EXPECT_NE(refused(f).find("bad_signature"), std::string::npos) << refused(f);
}

TEST_F(WaiverTest, AKeyNoSignerHoldsIsRefused) {
  file(waiver(stranger_), stranger_);
  auto f = evaluate();
  EXPECT_FALSE(f.waived);
  EXPECT_NE(refused(f).find("unknown_signer"), std::string::npos) << refused(f);
}

TEST_F(WaiverTest, AnEditedPayloadIsRefused) {
  auto path = file(waiver(appsec_), appsec_);
  auto j = nlohmann::json::parse(*read_file(path));
  j["payload"]["expires_at"] = "2200-01-01T00:00:00.000Z";
  ASSERT_TRUE(write_file_atomic(path, j.dump(2)).ok());
  auto f = evaluate();
  EXPECT_FALSE(f.waived);
  EXPECT_NE(refused(f).find("edited_record"), std::string::npos) << refused(f);
}

TEST_F(WaiverTest, AnExpiredWaiverBlocksAgain) {
  file(waiver(appsec_, "production", hours(1)), appsec_);
  auto f = evaluate();
  EXPECT_FALSE(f.waived);
  EXPECT_NE(refused(f).find("expired"), std::string::npos) << refused(f);
}

TEST_F(WaiverTest, AWaiverForAnotherEnvironmentIsRefused) {
  file(waiver(appsec_, "staging"), appsec_);
  EXPECT_TRUE(evaluate(kFp, "staging").waived);
  auto f = evaluate();
  EXPECT_FALSE(f.waived);
  EXPECT_NE(refused(f).find("other_environment"), std::string::npos) << refused(f);
}

TEST_F(WaiverTest, ARoleTheEnvironmentDoesNotTakeIsRefused) {
  file(waiver(qa_), qa_);
  auto f = evaluate();
  EXPECT_FALSE(f.waived);
  EXPECT_NE(refused(f).find("role_not_accepted"), std::string::npos) << refused(f);
  EXPECT_NE(refused(f).find("only from appsec"), std::string::npos) << refused(f);
}

TEST_F(WaiverTest, ASignerOfAnotherRoleCannotClaimOne) {
  // qa-lead's key, but the payload claims role appsec.
  Waiver w = waiver(qa_);
  w.role = "appsec";
  file(w, qa_);
  auto f = evaluate();
  EXPECT_FALSE(f.waived);
  EXPECT_NE(refused(f).find("untrusted_signer"), std::string::npos) << refused(f);
}

TEST_F(WaiverTest, EveryRequiredRoleMustSign) {
  load(R"(waiver_roles = ["appsec", "qa"])");
  file(waiver(appsec_), appsec_);
  auto f = evaluate();
  EXPECT_FALSE(f.waived);
  EXPECT_NE(refused(f).find("missing_role: no valid waiver by role 'qa'"), std::string::npos) << refused(f);
  file(waiver(qa_), qa_);
  EXPECT_TRUE(evaluate().waived);
}

TEST_F(WaiverTest, AnEnvironmentWithoutWaiverRolesTakesNone) {
  load("");
  file(waiver(appsec_), appsec_);
  auto f = evaluate();
  EXPECT_FALSE(f.waived);
  EXPECT_NE(refused(f).find("from no role (set waiver_roles)"), std::string::npos) << refused(f);
}

TEST_F(WaiverTest, LongerThanThirtyDaysIsRefused) {
  file(waiver(appsec_, "production", hours(24 * 31)), appsec_);
  auto f = evaluate();
  EXPECT_FALSE(f.waived);
  EXPECT_NE(refused(f).find("too_long"), std::string::npos) << refused(f);
}

TEST_F(WaiverTest, AnApprovalSignatureIsNoWaiverSignature) {
  // The same payload bytes signed without the waiver context (as another record kind would be).
  auto s = *sign_waiver(waiver(appsec_), appsec_);
  auto canonical = *canonical_waiver_payload(s.waiver);
  s.signature = sign_detached(appsec_, "villager-approval-v1\n" + canonical);
  ASSERT_TRUE(write_waiver(cfg_.state_dir() / "waivers", s).has_value());
  EXPECT_NE(refused(evaluate()).find("bad_signature"), std::string::npos);
}

TEST(WaiverParse, RefusesMalformedRecords) {
  EXPECT_FALSE(parse_waiver("{}", "x").has_value());
  EXPECT_FALSE(parse_waiver("not json", "x").has_value());
  auto dup = parse_waiver(R"({"format":"villager-waiver-v1","format":"x"})", "w.json");
  ASSERT_FALSE(dup.has_value());
  EXPECT_NE(dup.error().message.find("waiver w.json: field 'format' appears twice"), std::string::npos);
  EXPECT_TRUE(valid_finding_fingerprint(kFp));
  EXPECT_FALSE(valid_finding_fingerprint("fp:0123"));
  EXPECT_FALSE(valid_finding_fingerprint("sha256:0123456789abcdef0123"));
}

TEST(WaiverParse, RoundTripsASignedRecord) {
  TempDir dir;
  auto key = *generate_key("appsec", "sec-lead");
  Waiver w{kFp,
           "cors",
           "user",
           "production",
           "appsec",
           "sec-lead",
           from_unix_millis(1'000),
           from_unix_millis(2'000),
           "why"};
  auto path = write_waiver(dir.path(), *sign_waiver(w, key));
  ASSERT_TRUE(path.has_value());
  EXPECT_EQ(path->parent_path().filename(), "0123456789abcdef0123");
  auto back = parse_waiver(*read_file(*path), path->string());
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_EQ(back->waiver.finding, kFp);
  EXPECT_EQ(back->waiver.note, "why");
  EXPECT_EQ(back->waiver.expires_at, w.expires_at);
}

}  // namespace
}  // namespace villager::gate
