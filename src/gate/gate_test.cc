#include "gate/gate.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "artifact/pack.h"
#include "base/fs.h"
#include "base/hash.h"
#include "base/strings.h"
#include "gate/approvals_dir.h"
#include "gate/keys.h"
#include "gate/signing.h"
#include "testutil/fake_clock.h"
#include "testutil/temp_dir.h"

namespace villager::gate {
namespace {

namespace fs = std::filesystem;
using std::chrono::hours;

// A project with one service, an ungated explorer and a production that requires qa and appsec, signers
// for qa, appsec and conductor, and a packaged artifact. `stranger_` is a key no [[signer]] holds.
class GateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    qa_ = *generate_key("qa", "qa-lead");
    appsec_ = *generate_key("appsec", "sec-lead");
    conductor_ = *generate_key("conductor", "duty-lead");
    stranger_ = *generate_key("qa", "mallory");
    ASSERT_TRUE(ensure_dir(dir_ / "dist/user").ok());
    ASSERT_TRUE(write_file_atomic(dir_ / "dist/user/app.txt", "hello from v1\n").ok());
    load("");
    digest_ = pack("hello from v1\n");
  }

  void load(const std::string& extra) {
    std::string text = R"(
[project]
name = "t"
version_file = "version"
[services.user]
build_dir = "dist/user"
command = ["bin/server"]
[environments.explorer]
listen = { user = "127.0.0.1:18080" }
[environments.production]
listen = { user = "127.0.0.1:19080" }
requires = ["qa", "appsec"]
[[monitor.alarm]]
name = "5xx"
metric = "error_rate"
above = 0.01
)" + signer(qa_) + signer(appsec_) +
                       signer(conductor_) + extra;
    auto c = config::parse_config(text, dir_ / "villager.toml");
    ASSERT_TRUE(c.has_value()) << c.error().message;
    cfg_ = *c;
  }

  static std::string signer(const KeyPair& k) { return signer_toml(k); }

  Digest pack(const std::string& content) {
    EXPECT_TRUE(write_file_atomic(dir_ / "dist/user/app.txt", content).ok());
    artifact::PackRequest req;
    req.dir = dir_ / "dist/user";
    req.service = "user";
    req.version = "v1.0." + std::to_string(content.size());
    req.store_dir = cfg_.state_dir() / "artifacts";
    req.zip.mtime = artifact::kDefaultZipMtime;
    auto r = artifact::pack_directory(req);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
    return r ? r->digest : Digest();
  }

  Approval approval(const KeyPair& k, const std::string& role, const std::string& env, const Digest& digest,
                    hours valid = hours(24)) {
    Approval a;
    a.digest = digest;
    a.service = "user";
    a.version = "v1.0.0";
    a.environment = env;
    a.role = role;
    a.signer = k.name;
    a.issued_at = clock_.now();
    a.expires_at = clock_.now() + valid;
    a.note = "looks good";
    return a;
  }

  fs::path approve(const KeyPair& k, const std::string& role, const std::string& env, const Digest& digest,
                   hours valid = hours(24)) {
    auto s = sign_approval(approval(k, role, env, digest, valid), k);
    EXPECT_TRUE(s.has_value());
    auto p = write_approval(approvals_dir(), *s);
    EXPECT_TRUE(p.has_value()) << (p ? "" : p.error().message);
    return p ? *p : fs::path();
  }

  fs::path approvals_dir() const { return cfg_.state_dir() / "approvals"; }

  GateDecision gate(const std::string& env = "production", const GateOptions& o = {}) {
    auto d = evaluate_gate(cfg_, env, {{"user", digest_, "v1.0.0"}}, clock_.now(), o);
    EXPECT_TRUE(d.has_value()) << (d ? "" : d.error().message);
    return d ? *d : GateDecision{};
  }

  // The single reason of a rejection that has exactly one.
  static GateReason only_reason(const GateDecision& d) {
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.reasons.size(), 1u) << d.summary();
    return d.reasons.empty() ? GateReason{} : d.reasons[0];
  }

  static nlohmann::json read_json(const fs::path& p) { return nlohmann::json::parse(*read_file(p)); }
  static void write_json(const fs::path& p, const nlohmann::json& j) {
    ASSERT_TRUE(write_file_atomic(p, j.dump(2)).ok());
  }

  TempDir dir_;
  FakeClock clock_;
  KeyPair qa_, appsec_, conductor_, stranger_;
  config::Config cfg_;
  Digest digest_;
};

TEST_F(GateTest, HappyPathAllowsWithEveryRequiredRole) {
  approve(qa_, "qa", "production", digest_);
  clock_.advance(std::chrono::minutes(5));
  approve(appsec_, "appsec", "production", digest_);
  auto d = gate();
  EXPECT_TRUE(d.allowed) << d.summary();
  EXPECT_FALSE(d.overridden);
  EXPECT_TRUE(d.reasons.empty());
  ASSERT_EQ(d.approvals_used.size(), 2u);
  // The last required approval is the later one: that is where approval-to-deployed starts.
  ASSERT_TRUE(d.last_approval_at.has_value());
  EXPECT_EQ(*d.last_approval_at, clock_.now());
  auto j = nlohmann::json::parse(decision_json(d));
  EXPECT_EQ(j["allowed"], true);
  EXPECT_EQ(j["last_approval_at"], format_rfc3339(clock_.now()));
  EXPECT_EQ(j["approvals_used"].size(), 2u);
}

TEST_F(GateTest, EnvironmentWithoutRequirementsNeedsNoApproval) {
  auto d = gate("explorer");
  EXPECT_TRUE(d.allowed) << d.summary();
  EXPECT_FALSE(d.last_approval_at.has_value());
}

TEST_F(GateTest, MissingRoleIsNamed) {
  approve(qa_, "qa", "production", digest_);
  auto r = only_reason(gate());
  EXPECT_EQ(r.code, RejectCode::kMissingRole);
  EXPECT_EQ(r.role, "appsec");
  EXPECT_EQ(r.service, "user");
}

TEST_F(GateTest, NoApprovalsAtAllNamesEveryRole) {
  auto d = gate();
  EXPECT_FALSE(d.allowed);
  ASSERT_EQ(d.reasons.size(), 2u);
  EXPECT_EQ(d.reasons[0].role, "qa");
  EXPECT_EQ(d.reasons[1].role, "appsec");
  EXPECT_EQ(d.reasons[1].code, RejectCode::kMissingRole);
}

TEST_F(GateTest, UnknownSignerIsRejected) {
  approve(appsec_, "appsec", "production", digest_);
  approve(stranger_, "qa", "production", digest_);
  auto r = only_reason(gate());
  EXPECT_EQ(r.code, RejectCode::kUnknownSigner) << r.message;
  EXPECT_EQ(r.role, "qa");
}

TEST_F(GateTest, SignerNotTrustedForTheRoleIsRejected) {
  approve(qa_, "qa", "production", digest_);
  approve(qa_, "appsec", "production", digest_);  // the QA lead signing as AppSec
  auto r = only_reason(gate());
  EXPECT_EQ(r.code, RejectCode::kUntrustedSigner) << r.message;
  EXPECT_EQ(r.role, "appsec");
  EXPECT_NE(r.message.find("qa-lead as qa"), std::string::npos) << r.message;
}

TEST_F(GateTest, ForgedSignatureIsBadSignature) {
  approve(qa_, "qa", "production", digest_);
  // Mallory writes an AppSec approval claiming sec-lead's key, signed with her own.
  auto forged = sign_approval(approval(appsec_, "appsec", "production", digest_), stranger_);
  ASSERT_TRUE(forged.has_value());
  forged->key_fingerprint = key_fingerprint(appsec_.public_key);
  ASSERT_TRUE(write_approval(approvals_dir(), *forged).has_value());
  auto r = only_reason(gate());
  EXPECT_EQ(r.code, RejectCode::kBadSignature) << r.message;
}

TEST_F(GateTest, EditedRecordIsRejected) {
  approve(qa_, "qa", "production", digest_);
  auto p = approve(appsec_, "appsec", "production", digest_);
  auto j = read_json(p);
  j["payload"]["expires_at"] = format_rfc3339(clock_.now() + hours(24 * 365));
  write_json(p, j);
  auto r = only_reason(gate());
  EXPECT_EQ(r.code, RejectCode::kEditedRecord) << r.message;
}

TEST_F(GateTest, ApprovalForAnotherDigestIsRejected) {
  Digest other = pack("hello from v2\n");
  approve(qa_, "qa", "production", digest_);
  approve(appsec_, "appsec", "production", other);
  auto r = only_reason(gate());
  EXPECT_EQ(r.code, RejectCode::kOtherDigest) << r.message;
  EXPECT_EQ(r.role, "appsec");
}

TEST_F(GateTest, ApprovalMovedIntoAnotherDigestsFolderIsRejected) {
  Digest other = pack("hello from v2\n");
  approve(qa_, "qa", "production", digest_);
  auto p = approve(appsec_, "appsec", "production", other);
  fs::path moved = approvals_dir() / std::string(digest_.hex()) / p.filename();
  fs::rename(p, moved);
  auto r = only_reason(gate());
  EXPECT_EQ(r.code, RejectCode::kOtherDigest) << r.message;
}

TEST_F(GateTest, ApprovalCopiedToAnotherEnvironmentIsRejected) {
  approve(qa_, "qa", "production", digest_);
  auto p = approve(appsec_, "appsec", "explorer", digest_);
  fs::copy_file(p, p.parent_path() / "production__appsec__sec-lead.json");
  auto r = only_reason(gate());
  EXPECT_EQ(r.code, RejectCode::kOtherEnvironment) << r.message;
  EXPECT_NE(r.message.find("production__appsec__sec-lead.json"), std::string::npos) << r.message;
}

TEST_F(GateTest, ApprovalForAnotherEnvironmentIsNamedWhenNothingElseIs) {
  approve(qa_, "qa", "production", digest_);
  approve(appsec_, "appsec", "explorer", digest_);
  auto r = only_reason(gate());
  EXPECT_EQ(r.code, RejectCode::kOtherEnvironment) << r.message;
  EXPECT_TRUE(gate("explorer").allowed);
}

TEST_F(GateTest, ApprovalCopiedWithEnvironmentEditedIsEditedRecord) {
  approve(qa_, "qa", "production", digest_);
  auto p = approve(appsec_, "appsec", "explorer", digest_);
  auto j = read_json(p);
  j["payload"]["environment"] = "production";
  fs::remove(p);
  write_json(p.parent_path() / "production__appsec__sec-lead.json", j);
  auto r = only_reason(gate());
  EXPECT_EQ(r.code, RejectCode::kEditedRecord) << r.message;
}

TEST_F(GateTest, ApprovalCopiedWithEnvironmentAndHashEditedIsBadSignature) {
  approve(qa_, "qa", "production", digest_);
  auto p = approve(appsec_, "appsec", "explorer", digest_);
  auto j = read_json(p);
  j["payload"]["environment"] = "production";
  // The careful forger also fixes payload_sha256; only the signature can tell now.
  j["payload_sha256"] = sha256_hex(j["payload"].dump());
  fs::remove(p);
  write_json(p.parent_path() / "production__appsec__sec-lead.json", j);
  auto r = only_reason(gate());
  EXPECT_EQ(r.code, RejectCode::kBadSignature) << r.message;
}

TEST_F(GateTest, ExpiredApprovalIsRejected) {
  approve(qa_, "qa", "production", digest_, hours(48));
  approve(appsec_, "appsec", "production", digest_, hours(24));
  EXPECT_TRUE(gate().allowed);
  clock_.advance(hours(24));  // exactly at expiry: no longer valid
  auto r = only_reason(gate());
  EXPECT_EQ(r.code, RejectCode::kExpired) << r.message;
  EXPECT_EQ(r.role, "appsec");
}

TEST_F(GateTest, ArtifactAlteredByOneByteAfterApprovalIsRejected) {
  approve(qa_, "qa", "production", digest_);
  approve(appsec_, "appsec", "production", digest_);
  ASSERT_TRUE(gate().allowed);
  fs::path zip = cfg_.state_dir() / "artifacts/sha256" / (std::string(digest_.hex()) + ".zip");
  std::string bytes = *read_file(zip);
  bytes[bytes.size() / 2] ^= 0x01;
  ASSERT_TRUE(write_file_atomic(zip, bytes).ok());
  auto r = only_reason(gate());
  EXPECT_EQ(r.code, RejectCode::kArtifactTampered) << r.message;
  EXPECT_EQ(r.role, "");
}

TEST_F(GateTest, OverrideWithoutConductorApprovalIsRejected) {
  approve(qa_, "qa", "production", digest_);
  auto d = gate("production", {true, "checkout is down"});
  EXPECT_FALSE(d.allowed);
  EXPECT_FALSE(d.overridden);
  bool conductor_missing = false;
  for (const auto& r : d.reasons)
    if (r.role == "conductor" && r.code == RejectCode::kMissingRole) conductor_missing = true;
  EXPECT_TRUE(conductor_missing) << d.summary();
}

TEST_F(GateTest, OverrideWithConductorApprovalIsAllowedAndSaysWhatItWaived) {
  approve(qa_, "qa", "production", digest_);
  approve(conductor_, "conductor", "production", digest_);
  auto d = gate("production", {true, "checkout is down"});
  EXPECT_TRUE(d.allowed) << d.summary();
  EXPECT_TRUE(d.overridden);
  EXPECT_EQ(d.override_reason, "checkout is down");
  ASSERT_EQ(d.reasons.size(), 1u);  // the waived appsec approval
  EXPECT_EQ(d.reasons[0].role, "appsec");
  auto j = nlohmann::json::parse(decision_json(d));
  EXPECT_EQ(j["overridden"], true);
  EXPECT_EQ(j["override_reason"], "checkout is down");
  EXPECT_EQ(j["reasons"][0]["code"], "missing_role");
  // Without --override the same approvals are not enough.
  EXPECT_FALSE(gate().allowed);
}

TEST_F(GateTest, OverrideNeedsAReason) {
  approve(conductor_, "conductor", "production", digest_);
  auto d = gate("production", {true, "  "});
  EXPECT_FALSE(d.allowed);
  bool named = false;
  for (const auto& r : d.reasons) named |= r.code == RejectCode::kOverrideNeedsReason;
  EXPECT_TRUE(named) << d.summary();
}

TEST_F(GateTest, OverrideRoleComesFromConfig) {
  KeyPair oncall = *generate_key("oncall", "pager");
  load(signer(oncall) + "[gate]\noverride_role = \"oncall\"\n");
  approve(conductor_, "conductor", "production", digest_);
  EXPECT_FALSE(gate("production", {true, "fire"}).allowed);
  approve(oncall, "oncall", "production", digest_);
  EXPECT_TRUE(gate("production", {true, "fire"}).allowed);
}

TEST_F(GateTest, OverrideNeverWaivesATamperedArtifact) {
  approve(conductor_, "conductor", "production", digest_);
  fs::path zip = cfg_.state_dir() / "artifacts/sha256" / (std::string(digest_.hex()) + ".zip");
  std::string bytes = *read_file(zip);
  bytes.back() ^= 0x01;
  ASSERT_TRUE(write_file_atomic(zip, bytes).ok());
  auto d = gate("production", {true, "fire"});
  EXPECT_FALSE(d.allowed);
  ASSERT_FALSE(d.reasons.empty());
  EXPECT_EQ(d.reasons[0].code, RejectCode::kArtifactTampered);
}

TEST_F(GateTest, GarbageFileIsEditedRecordNotACrash) {
  approve(qa_, "qa", "production", digest_);
  fs::path p = approvals_dir() / std::string(digest_.hex()) / "production__appsec__sec-lead.json";
  ASSERT_TRUE(write_file_atomic(p, "{\"format\": 1").ok());
  auto r = only_reason(gate());
  EXPECT_EQ(r.code, RejectCode::kEditedRecord) << r.message;
}

TEST_F(GateTest, OversizeFileIsRefusedUnread) {
  approve(qa_, "qa", "production", digest_);
  fs::path p = approvals_dir() / std::string(digest_.hex()) / "production__appsec__sec-lead.json";
  ASSERT_TRUE(write_file_atomic(p, std::string(kMaxApprovalBytes + 1, ' ')).ok());
  auto r = only_reason(gate());
  EXPECT_EQ(r.code, RejectCode::kEditedRecord);
  EXPECT_NE(r.message.find("larger than"), std::string::npos) << r.message;
}

TEST_F(GateTest, UnknownEnvironmentIsAnError) {
  auto d = evaluate_gate(cfg_, "staging", {{"user", digest_, "v1"}}, clock_.now());
  EXPECT_FALSE(d.has_value());
}

TEST_F(GateTest, MonitoringCoverageNamesUncoveredServices) {
  EXPECT_TRUE(check_monitoring_coverage(cfg_, "production").ok());
  std::string text = R"(
[project]
name = "t"
version_file = "version"
[services.user]
build_dir = "dist/user"
command = ["x"]
[services.admin]
build_dir = "dist/admin"
command = ["x"]
[environments.production]
listen = { user = "127.0.0.1:19080", admin = "127.0.0.1:19081" }
[[monitor.alarm]]
name = "user-5xx"
metric = "error_rate"
above = 0.01
service = "user"
)";
  auto c = config::parse_config(text, dir_ / "villager.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  auto s = check_monitoring_coverage(*c, "production");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("no [[monitor.alarm]] applies to: admin"), std::string::npos)
      << s.error().message;
  EXPECT_EQ(s.error().message.find("user"), std::string::npos) << "user has an alarm: " << s.error().message;
  c->services[0].health_path.clear();
  s = check_monitoring_coverage(*c, "production");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("no health probe (health_path) for: user"), std::string::npos)
      << s.error().message;
}

}  // namespace
}  // namespace villager::gate
