#include "report/review.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "base/fs.h"
#include "base/hash.h"
#include "base/redact.h"
#include "store/test_helpers.h"

namespace villager::report {
namespace {

using store::DeploymentKind;
using store::DeploymentStatus;
using store::StepStatus;
using store::testing::digest_of;
using store::testing::TestStore;

constexpr int64_t kSec = 1000;
const fs::path kTestdata = fs::path(VILLAGER_REPORT_TESTDATA);

// Compares with a golden file; VILLAGER_UPDATE_GOLDEN=1 rewrites it instead (then review the diff).
void expect_golden(const std::string& actual, const std::string& golden) {
  if (std::getenv("VILLAGER_UPDATE_GOLDEN")) {
    ASSERT_TRUE(write_file_atomic(kTestdata / golden, actual).ok());
    return;
  }
  auto want = read_file(kTestdata / golden);
  ASSERT_TRUE(want) << want.error().message;
  EXPECT_EQ(actual, *want) << "golden file " << golden;
}

// A store on a FakeClock and helpers that move the clock to each event, so every time is exact.
class ReviewDocs : public ::testing::Test {
 protected:
  void SetUp() override {
    t0_ = s_->now_ms();
    ASSERT_TRUE(store::upsert_release(*s_, {"user", "v1.0.0", digest_of('a'), "c1", false, 0}).ok());
    ASSERT_TRUE(store::upsert_release(*s_, {"user", "v2.0.0", digest_of('b'), "c2", false, 0}).ok());
    ASSERT_TRUE(
        store::mark_known_good(*s_, {0, "production", "user", digest_of('a'), "v1.0.0", 0}).has_value());
  }
  void at(int64_t offset_ms) { s_.clock.advance(std::chrono::milliseconds(t0_ + offset_ms - s_->now_ms())); }
  int64_t start(DeploymentKind kind, char digest, char from, const std::string& version) {
    store::Deployment d;
    d.environment = "production";
    d.service = "user";
    d.kind = kind;
    d.version = version;
    d.digest = digest_of(digest);
    d.from_digest = digest_of(from);
    d.actor = "alice";
    auto id = store::create_deployment(*s_, d);
    EXPECT_TRUE(id);
    return id ? *id : 0;
  }
  void step(int64_t id, const std::string& name, int64_t to_ms, bool ok, const std::string& detail = "{}") {
    auto seq = store::add_step(*s_, id, name);
    ASSERT_TRUE(seq);
    at(to_ms);
    ASSERT_TRUE(
        store::finish_step(*s_, id, *seq, ok ? StepStatus::kSucceeded : StepStatus::kFailed, detail).ok());
  }
  std::vector<issues::Issue> some_issues() {
    return issues::parse_issues(
               "Workstream-1 | in-progress | Production environment setup\n"
               "\tTask-6 | todo | Establish rollback procedure and test it\n",
               "workstream-deployment.issues")
        .issues;
  }

  TestStore s_;
  int64_t t0_ = 0;
};

TEST_F(ReviewDocs, DeploymentReviewGolden) {
  int64_t id = start(DeploymentKind::kDeploy, 'b', 'a', "v2.0.0");
  step(id, "start_candidate:user", 4 * kSec, true,
       R"({"duration_ms": 4000, "smoke": [{"check": "health", "passed": true, "duration_ms": 12},
           {"check": "auth", "passed": true, "duration_ms": 31}]})");
  step(id, "shift:10", 34 * kSec, true, R"({"weight": 10, "duration_ms": 30000})");
  step(id, "shift:50", 64 * kSec, true, R"({"weight": 50, "duration_ms": 30000})");
  step(id, "shift:100", 65 * kSec, true, R"({"weight": 100, "duration_ms": 1000})");
  step(id, "promote", 65 * kSec, true);
  step(id, "post_traffic_smoke", 67 * kSec, true, R"({"duration_ms": 2000})");
  step(
      id, "watch", 1867 * kSec, true,
      R"({"duration_ms": 1800000, "metrics": [{"metric": "error_rate", "baseline": "0.00%", "candidate": "0.01%",
           "verdict": "ok"}, {"metric": "p99", "baseline": "41ms", "candidate": "39ms", "verdict": "ok"}],
           "alarms": []})");
  ASSERT_TRUE(
      store::finish_deployment(*s_, id, DeploymentStatus::kSucceeded, R"({"message":"deployed"})").ok());

  ReviewExtra extra;
  extra.approvals =
      std::vector<Approval>{{"qa", "qa-lead", t0_ - 600 * kSec}, {"appsec", "appsec-lead", t0_ - 300 * kSec}};
  extra.rollback_plan = RollbackPlan{"v1.0.0", digest_of('a'), "passed", 850, t0_ - 120 * kSec};
  auto in = review_input_from_store(*s_, id, extra);
  ASSERT_TRUE(in) << in.error().message;
  in->issues = some_issues();
  EXPECT_FALSE(in->is_rollback());
  expect_golden(render_review(*in), "deploy_review.md");
}

TEST_F(ReviewDocs, AutomaticRollbackReviewGolden) {
  int64_t id = start(DeploymentKind::kDeploy, 'b', 'a', "v2.0.0");
  step(id, "start_candidate:user", 4 * kSec, true);
  step(id, "shift:10", 34 * kSec, true, R"({"weight": 10, "duration_ms": 30000})");
  step(id, "shift:50", 64 * kSec, false,
       R"({"weight": 50, "duration_ms": 30000, "error": "alarm 5xx: error_rate 0.2 above 0.01"})");
  at(65 * kSec);
  ASSERT_TRUE(store::finish_deployment(*s_, id, DeploymentStatus::kRolledBack,
                                       R"({"message":"alarm 5xx: error_rate 0.2 above 0.01"})")
                  .ok());
  ReviewExtra extra;
  extra.alarms_fired = std::vector<std::string>{"5xx (critical)"};
  auto in = review_input_from_store(*s_, id, extra);
  ASSERT_TRUE(in) << in.error().message;
  EXPECT_TRUE(in->is_rollback());
  ASSERT_TRUE(in->detected_at && in->restored_at);
  EXPECT_EQ(*in->restored_at - *in->detected_at, 1 * kSec);
  expect_golden(render_review(*in), "auto_rollback_review.md");
}

TEST_F(ReviewDocs, ManualRollbackReviewGolden) {
  int64_t id = start(DeploymentKind::kRollback, 'a', 'b', "v1.0.0");
  step(id, "route_swap", 1, true, R"({"warm": true, "duration_ms": 1})");
  at(2);
  ASSERT_TRUE(store::finish_deployment(*s_, id, DeploymentStatus::kSucceeded,
                                       R"({"message":"customers report failed downloads"})")
                  .ok());
  ReviewExtra extra;
  extra.detected_at = t0_ - 90 * kSec;  // the alert that paged someone
  extra.timeline = {{t0_ - 90 * kSec, "alert: download errors above 1%"}};
  auto in = review_input_from_store(*s_, id, extra);
  ASSERT_TRUE(in) << in.error().message;
  in->issues = std::vector<issues::Issue>{};
  expect_golden(render_review(*in), "rollback_review.md");
}

TEST_F(ReviewDocs, SectionsWithoutDataSayNotRecorded) {
  int64_t id = start(DeploymentKind::kDeploy, 'b', 'a', "v2.0.0");
  auto in = review_input_from_store(*s_, id);
  ASSERT_TRUE(in);
  std::string doc = render_review(*in);
  EXPECT_NE(doc.find("## Approvals\n\nNot recorded."), std::string::npos) << doc;
  EXPECT_NE(doc.find("## Smoke results\n\nNot recorded."), std::string::npos) << doc;
  EXPECT_NE(doc.find("Rehearsal: not recorded"), std::string::npos) << doc;
  EXPECT_NE(doc.find("**Status:** Running"), std::string::npos) << doc;
  EXPECT_EQ(doc.find("## Post-mortem"), std::string::npos);
}

TEST_F(ReviewDocs, AFleetRolloutShowsWhereItLeftEachHost) {
  int64_t id = start(DeploymentKind::kDeploy, 'b', 'a', "v2.0.0");
  // What pipeline/fleet_rollout.cc records: batch 1 switched web1, batch 2 failed on web2, the revert.
  step(id, "batch:1", 2 * kSec, true,
       R"({"hosts": [{"host": "web1", "state": "switched", "before": {"user": "v1.0.0", "admin": "v1.0.0"}},
                     {"host": "web2", "state": "pending", "before": {"user": "v1.0.0"}}]})");
  step(id, "batch:2", 4 * kSec, false,
       R"({"hosts": [{"host": "web1", "state": "switched", "before": {"user": "v1.0.0"}},
                     {"host": "web2", "state": "failed", "before": {"user": "v1.0.0"},
                      "error": "the user candidate fails the smoke suite: health | 503"}]})");
  step(id, "fleet_revert", 5 * kSec, true,
       R"({"hosts": [{"host": "web1", "state": "reverted", "before": {"user": "v1.0.0"}},
                     {"host": "web2", "state": "failed", "before": {}, "error": "health 503"},
                     {"host": "web3", "state": "unreachable", "before": {"user": "v1.0.0"}, "error": "ssh: timed out"}]})");
  auto in = review_input_from_store(*s_, id);
  ASSERT_TRUE(in) << in.error().message;
  ASSERT_TRUE(in->hosts.has_value());
  ASSERT_EQ(in->hosts->size(), 3u);  // the revert's picture, the last one recorded
  std::string doc = render_review(*in);
  EXPECT_NE(doc.find("## Hosts"), std::string::npos) << doc;
  EXPECT_NE(doc.find("| web1 | v1.0.0 | reverted |"), std::string::npos) << doc;
  EXPECT_NE(doc.find("| web2 | none | failed | health 503 |"), std::string::npos) << doc;
  EXPECT_NE(doc.find("| web3 | v1.0.0 | unreachable | ssh: timed out |"), std::string::npos) << doc;
  // A one-host deployment has no Hosts section.
  int64_t solo = start(DeploymentKind::kDeploy, 'b', 'a', "v2.0.0");
  auto one = review_input_from_store(*s_, solo);
  ASSERT_TRUE(one);
  EXPECT_EQ(render_review(*one).find("## Hosts"), std::string::npos);
}

TEST_F(ReviewDocs, WaivedFindingsSayWhoWhyAndUntilWhen) {
  int64_t id = start(DeploymentKind::kDeploy, 'b', 'a', "v2.0.0");
  step(id, "post_traffic_smoke", 2 * kSec, true,
       R"json({"smoke": {"passed": true, "checks": [
            {"name": "health", "service": "user", "passed": true, "failures": []},
            {"name": "cors", "service": "user", "passed": true, "waived": true, "failures": [
              {"what": "OPTIONS /api/transfers/create (preflight from foreign https://evil.example)",
               "expected": "no Access-Control-Allow-Origin", "actual": "Access-Control-Allow-Origin: x",
               "fingerprint": "fp:0123456789abcdef0123",
               "waived": {"by": "sec-lead (appsec)", "note": "RF-09, fix in v0.4",
                          "until": "2026-12-18T10:00:00.000Z", "expires_soon": false}}]}]}})json");
  auto in = review_input_from_store(*s_, id);
  ASSERT_TRUE(in);
  std::string doc = render_review(*in);
  EXPECT_NE(
      doc.find("| cors (user) | after traffic | waived (fp:0123456789abcdef0123 waived by sec-lead (appsec) "
               "until 2026-12-18T10:00:00.000Z: RF-09, fix in v0.4) |"),
      std::string::npos)
      << doc;
  EXPECT_NE(doc.find("| health (user) | after traffic | pass |"), std::string::npos) << doc;
}

TEST_F(ReviewDocs, WrittenAtTheConfiguredPathRedactedAndNeverOverwritten) {
  const std::string secret = "sk-review-secret-value-123";
  register_secret(secret);
  int64_t id = start(DeploymentKind::kRollback, 'a', 'b', "v1.0.0");
  ASSERT_TRUE(store::finish_deployment(*s_, id, DeploymentStatus::kSucceeded,
                                       R"({"message":"token )" + secret + R"( leaked in logs"})")
                  .ok());
  TempDir root;
  ASSERT_TRUE(ensure_dir(root / ".issues").ok());
  ASSERT_TRUE(
      write_file_atomic(root / ".issues/w.issues", "Task-1 | todo | open one\nTask-2 | done | closed one\n")
          .ok());
  config::Config cfg;
  cfg.root = root.path();
  cfg.project.reviews_dir = "reviews";
  auto first = write_review_for_deployment(cfg, *s_, id);
  ASSERT_TRUE(first) << first.error().message;
  std::string date = format_rfc3339(from_unix_millis(s_->now_ms()));
  EXPECT_EQ(*first, root.path() / "reviews" / date.substr(5, 2) / date.substr(8, 2) /
                        "v1.0.0__rollback__production-user.md");
  auto second = write_review_for_deployment(cfg, *s_, id);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->filename(), "v1.0.0__rollback__production-user-2.md");
  auto text = read_file(*first);
  ASSERT_TRUE(text);
  EXPECT_EQ(text->find(secret), std::string::npos);
  EXPECT_NE(text->find("token *** leaked"), std::string::npos) << *text;
  // Open issues only.
  EXPECT_NE(text->find("Task-1"), std::string::npos);
  EXPECT_EQ(text->find("Task-2"), std::string::npos);
  clear_secrets_for_test();
}

// The release's manifest where write_review_for_deployment reads it.
void store_manifest(const config::Config& cfg, const artifact::Manifest& m) {
  ASSERT_FALSE(m.digest.empty());
  ASSERT_TRUE(ensure_dir(cfg.state_dir() / "artifacts" / "sha256").ok());
  ASSERT_TRUE(write_file_atomic(artifact::artifact_manifest_path(cfg.state_dir() / "artifacts", m.digest),
                                manifest_to_json(m))
                  .ok());
}

TEST_F(ReviewDocs, TheReleaseManifestsBuildIsShownRedacted) {
  const std::string secret = "sk-build-output-secret-456";
  register_secret(secret);
  int64_t id = start(DeploymentKind::kDeploy, 'b', 'a', "v2.0.0");
  TempDir root;
  config::Config cfg;
  cfg.root = root.path();
  cfg.project.reviews_dir = "reviews";
  artifact::Manifest m;
  m.digest = *Digest::parse(digest_of('b'));
  m.service = "user";
  m.version = "v2.0.0";
  artifact::BuildRecord b;
  b.command = {"scripts/build.sh", "user"};
  b.env = {{"LANG", "C.UTF-8"}, {"PYTHONDONTWRITEBYTECODE", "1"}};
  b.duration_ms = 1500;
  b.output_tail = "copied 14 files\nkey was " + secret;
  b.tools = {{"python3 --version", "Python 3.11.2"}};
  m.build = b;
  store_manifest(cfg, m);
  auto path = write_review_for_deployment(cfg, *s_, id);
  ASSERT_TRUE(path) << path.error().message;
  auto text = read_file(*path);
  ASSERT_TRUE(text);
  EXPECT_NE(text->find("## Build\n\n- Command: `scripts/build.sh user`\n- Exit code: 0, took 1s500ms\n"),
            std::string::npos)
      << *text;
  EXPECT_NE(text->find("LANG=C.UTF-8 PYTHONDONTWRITEBYTECODE=1"), std::string::npos) << *text;
  EXPECT_NE(text->find("| `python3 --version` | Python 3.11.2 |"), std::string::npos) << *text;
  EXPECT_NE(text->find("    copied 14 files\n    key was ***\n"), std::string::npos) << *text;
  EXPECT_EQ(text->find(secret), std::string::npos);
  clear_secrets_for_test();
  // A release without a build record has no Build section.
  EXPECT_EQ(render_review(*review_input_from_store(*s_, id)).find("## Build"), std::string::npos);
}

TEST_F(ReviewDocs, TheReleasesVendoredPythonDependenciesAreListed) {
  int64_t id = start(DeploymentKind::kDeploy, 'b', 'a', "v2.0.0");
  TempDir root;
  config::Config cfg;
  cfg.root = root.path();
  cfg.project.reviews_dir = "reviews";
  artifact::Manifest m;
  m.digest = *Digest::parse(digest_of('b'));
  m.service = "user";
  m.version = "v2.0.0";
  const std::string sha(64, 'c');
  m.python_deps = {{"fastapi", "0.92.0", sha, 46}, {"sniffio", "1.2.0", std::string(64, 'd'), 10}};
  store_manifest(cfg, m);
  auto path = write_review_for_deployment(cfg, *s_, id);
  ASSERT_TRUE(path) << path.error().message;
  auto text = read_file(*path);
  ASSERT_TRUE(text);
  EXPECT_NE(text->find("## Python dependencies\n\n| Distribution | Version | Files | SHA-256 of its files |\n"
                       "|---|---|---|---|\n| fastapi | 0.92.0 | 46 | " +
                       sha + " |\n| sniffio | 1.2.0 | 10 | "),
            std::string::npos)
      << *text;
  // A release without vendored dependencies has no such section.
  EXPECT_EQ(render_review(*review_input_from_store(*s_, id)).find("## Python dependencies"),
            std::string::npos);
}

TEST_F(ReviewDocs, UnknownDeploymentIsNotFound) {
  auto in = review_input_from_store(*s_, 999);
  ASSERT_FALSE(in);
  EXPECT_EQ(in.error().code, Code::kNotFound);
}

}  // namespace
}  // namespace villager::report
