#include "report/report.h"

#include <gtest/gtest.h>

#include "store/test_helpers.h"

namespace villager::report {
namespace {

using store::DeploymentKind;
using store::DeploymentStatus;
using store::StepStatus;
using store::testing::digest_of;
using store::testing::TestStore;

constexpr int64_t kSec = 1000;
constexpr int64_t kHour = 3600 * kSec;
constexpr int64_t kDay = 24 * kHour;

// Seeds deployments on a FakeClock: the clock is moved to each event's time, so steps get exact times.
class Seeder {
 public:
  explicit Seeder(TestStore& s) : s_(s), t0_(s->now_ms()) {}
  int64_t t0() const { return t0_; }
  void at(int64_t offset_ms) {
    int64_t target = t0_ + offset_ms;
    ASSERT_GE(target, s_->now_ms()) << "seed events in time order";
    s_.clock.advance(std::chrono::milliseconds(target - s_->now_ms()));
  }
  int64_t start(std::string env, DeploymentKind kind, char digest, char from, int64_t at_ms,
                int64_t commit_time = 0) {
    at(at_ms);
    store::Deployment d;
    d.environment = std::move(env);
    d.service = "user";
    d.kind = kind;
    d.version = std::string("v") + digest;
    d.digest = digest_of(digest);
    d.from_digest = from ? digest_of(from) : "";
    d.actor = "alice";
    d.started_at = t0_ + at_ms;
    EXPECT_TRUE(store::upsert_release(*s_, {"user", d.version, d.digest, "c", false, 0, commit_time}).ok());
    auto id = store::create_deployment(*s_, d);
    EXPECT_TRUE(id) << id.error().message;
    return id ? *id : 0;
  }
  void step(int64_t id, const std::string& name, int64_t from_ms, int64_t to_ms, bool ok) {
    at(from_ms);
    auto seq = store::add_step(*s_, id, name);
    ASSERT_TRUE(seq);
    at(to_ms);
    ASSERT_TRUE(store::finish_step(*s_, id, *seq, ok ? StepStatus::kSucceeded : StepStatus::kFailed).ok());
  }
  void finish(int64_t id, DeploymentStatus status, int64_t at_ms) {
    at(at_ms);
    ASSERT_TRUE(store::finish_deployment(*s_, id, status, "{}", t0_ + at_ms).ok());
  }

 private:
  TestStore& s_;
  int64_t t0_;
};

const Figure& figure(const std::vector<Figure>& list, const std::string& key) {
  for (const auto& f : list)
    if (f.key == key) return f;
  static Figure none;
  ADD_FAILURE() << "no figure " << key;
  return none;
}

config::Config production_config() {
  config::Config c;
  for (const char* name : {"user", "admin"}) {
    config::ServiceConfig s;
    s.name = name;
    c.services.push_back(s);
  }
  config::EnvironmentConfig env;
  env.name = "production";
  env.listen["user"] = {"127.0.0.1", 9080};
  env.listen["admin"] = {"127.0.0.1", 9081};
  c.environments.push_back(env);
  config::AlarmConfig alarm;
  alarm.name = "5xx";
  alarm.service = "user";
  c.monitor.alarms.push_back(alarm);
  return c;
}

// The seeded history (production/user unless said), times from t0:
//   -40d   old deploy O, succeeded                          (outside the window: context only)
//   A  0s       deploy, commit at -1h, smoke ok, done +120s  succeeded
//   B  1h       deploy, smoke FAILS at 1h+60s, done 1h+62s   rolled back automatically
//   C  2h       deploy, commit at 2h-600s, smoke ok, +300s   succeeded (rework: B failed)
//   R  3h       manual rollback of C to A, done 3h+1s        succeeded
//   D  4h       deploy, candidate fails, done 4h+30s         failed before traffic
//   E  5h       deploy, no commit time, smoke ok, +60s       succeeded (rework: C was rolled back)
//   X  5h30m    explorer deploy, failed                      (another environment)
class ReportFigures : public ::testing::Test {
 protected:
  void SetUp() override {
    Seeder seed(s_);
    t0_ = seed.t0();
    // The old deploy happened before t0, so it is created directly with explicit times.
    store::Deployment old;
    old.environment = "production";
    old.service = "user";
    old.version = "v0";
    old.digest = digest_of('0');
    old.actor = "alice";
    old.started_at = t0_ - 40 * kDay;
    auto oid = store::create_deployment(*s_, old);
    ASSERT_TRUE(oid);
    ASSERT_TRUE(
        store::finish_deployment(*s_, *oid, DeploymentStatus::kSucceeded, "{}", old.started_at + 60 * kSec)
            .ok());

    int64_t a = seed.start("production", DeploymentKind::kDeploy, 'a', '0', 0, t0_ - kHour);
    seed.step(a, "start_candidate:user", 0, 10 * kSec, true);
    seed.step(a, "post_traffic_smoke", 100 * kSec, 110 * kSec, true);
    seed.finish(a, DeploymentStatus::kSucceeded, 120 * kSec);

    int64_t b = seed.start("production", DeploymentKind::kDeploy, 'b', 'a', kHour, t0_);
    seed.step(b, "start_candidate:user", kHour, kHour + 10 * kSec, true);
    seed.step(b, "post_traffic_smoke", kHour + 50 * kSec, kHour + 60 * kSec, false);
    seed.finish(b, DeploymentStatus::kRolledBack, kHour + 62 * kSec);

    int64_t c =
        seed.start("production", DeploymentKind::kDeploy, 'c', 'a', 2 * kHour, t0_ + 2 * kHour - 600 * kSec);
    seed.step(c, "post_traffic_smoke", 2 * kHour + 200 * kSec, 2 * kHour + 210 * kSec, true);
    seed.finish(c, DeploymentStatus::kSucceeded, 2 * kHour + 300 * kSec);

    int64_t r = seed.start("production", DeploymentKind::kRollback, 'a', 'c', 3 * kHour);
    seed.step(r, "route_swap", 3 * kHour, 3 * kHour + 1 * kSec, true);
    seed.finish(r, DeploymentStatus::kSucceeded, 3 * kHour + 1 * kSec);

    int64_t d = seed.start("production", DeploymentKind::kDeploy, 'd', 'a', 4 * kHour);
    seed.step(d, "start_candidate:user", 4 * kHour, 4 * kHour + 30 * kSec, false);
    seed.finish(d, DeploymentStatus::kFailed, 4 * kHour + 30 * kSec);

    int64_t e = seed.start("production", DeploymentKind::kDeploy, 'e', 'a', 5 * kHour);
    seed.step(e, "post_traffic_smoke", 5 * kHour + 30 * kSec, 5 * kHour + 40 * kSec, true);
    seed.finish(e, DeploymentStatus::kSucceeded, 5 * kHour + 60 * kSec);

    int64_t x = seed.start("explorer", DeploymentKind::kDeploy, 'x', 0, 5 * kHour + 1800 * kSec);
    seed.finish(x, DeploymentStatus::kFailed, 5 * kHour + 1810 * kSec);
  }

  Report compute(const std::string& env) {
    config::Config cfg = production_config();
    auto r = compute_report(*s_, &cfg, {env, t0_ + 6 * kHour - 30 * kDay, t0_ + 6 * kHour});
    EXPECT_TRUE(r) << r.error().message;
    return r ? *r : Report{};
  }

  TestStore s_;
  int64_t t0_ = 0;
};

TEST_F(ReportFigures, TargetsMatchHandComputedValues) {
  Report r = compute("production");
  // Post-traffic smoke: A ok, B failed, C ok, E ok.
  EXPECT_DOUBLE_EQ(*figure(r.targets, "smoke_pass_rate").value, 75.0);
  EXPECT_EQ(figure(r.targets, "smoke_pass_rate").met, false);
  // Rollbacks: B automatic, 60s (failure) -> 62s (restored) = 2s; R manual, 1s. Mean 1.5s.
  EXPECT_DOUBLE_EQ(*figure(r.targets, "mean_time_to_rollback").value, 1500.0);
  EXPECT_EQ(figure(r.targets, "mean_time_to_rollback").met, true);
  // Finished deploys A B C D E; D failed before traffic (the pipeline's catch), so the changes that reached
  // users are A B C E, of which B (rolled back) and C (undone by R) failed: 2 of 4.
  EXPECT_DOUBLE_EQ(*figure(r.targets, "deployment_success_rate").value, 50.0);
  EXPECT_EQ(figure(r.targets, "deployment_success_rate").samples, 4);
  EXPECT_EQ(figure(r.targets, "deployment_success_rate").met, false);
  EXPECT_DOUBLE_EQ(*figure(r.targets, "stopped_before_users").value, 1.0);
  EXPECT_EQ(figure(r.targets, "stopped_before_users").display, "1 of 5 deploys (start_candidate 1)");
  // No store data for these: reported as such.
  EXPECT_FALSE(figure(r.targets, "uptime").value);
  EXPECT_EQ(figure(r.targets, "uptime").display, "no data");
  EXPECT_FALSE(figure(r.targets, "approval_to_deployed").value);
  // user has an alarm rule, admin none.
  EXPECT_DOUBLE_EQ(*figure(r.targets, "monitoring_coverage").value, 50.0);
}

TEST_F(ReportFigures, RollbackTimingsAreTheRowsBehindTheMean) {
  auto rows = rollback_timings(*s_, {"production", t0_ + 6 * kHour - 30 * kDay, t0_ + 6 * kHour});
  ASSERT_TRUE(rows) << rows.error().message;
  ASSERT_EQ(rows->size(), 2u);
  int64_t sum = 0;
  for (const auto& r : *rows) {
    EXPECT_EQ(r.duration_ms, r.restored_at - r.detected_at);
    sum += r.duration_ms;
  }
  EXPECT_EQ((*rows)[0].kind, "automatic");  // B, then R: oldest first
  EXPECT_EQ((*rows)[0].duration_ms, 2000);
  EXPECT_EQ((*rows)[1].kind, "manual");
  EXPECT_DOUBLE_EQ(*figure(compute("production").targets, "mean_time_to_rollback").value, sum / 2.0);
}

TEST_F(ReportFigures, DoraMatchesHandComputedValues) {
  Report r = compute("production");
  // 3 successful deploys in 30 days.
  EXPECT_DOUBLE_EQ(*figure(r.dora, "deployment_frequency").value, 3.0 / 30.0);
  // Lead times: A 120s + 1h = 3720s, C 300s + 600s = 900s; E has no commit time. Median 2310s.
  EXPECT_DOUBLE_EQ(*figure(r.dora, "lead_time").value, 2310.0 * kSec);
  EXPECT_EQ(figure(r.dora, "lead_time").samples, 2);
  // Changes (reached traffic): A B C E. Failed: B (automatic), C (rolled back by R).
  EXPECT_DOUBLE_EQ(*figure(r.dora, "change_failure_rate").value, 50.0);
  // Recovery: B 2s; C live at 2h+300s, restored at 3h+1s = 3301s. Median (2 + 3301) / 2 = 1651.5s.
  EXPECT_DOUBLE_EQ(*figure(r.dora, "failed_deployment_recovery_time").value, 1651.5 * kSec);
  // Rework: C (after B failed) and E (after C was rolled back), of 4 changes.
  EXPECT_DOUBLE_EQ(*figure(r.dora, "deployment_rework_rate").value, 50.0);
}

TEST_F(ReportFigures, EveryEnvironmentIncludesTheExplorerFailure) {
  Report r = compute("");
  EXPECT_DOUBLE_EQ(*figure(r.targets, "deployment_success_rate").value, 50.0);  // 3 of 6
  EXPECT_DOUBLE_EQ(*figure(r.dora, "change_failure_rate").value, 50.0);         // failed before traffic
}

TEST_F(ReportFigures, EmptyWindowIsNoDataNotZero) {
  config::Config cfg = production_config();
  auto r = compute_report(*s_, &cfg, {"production", t0_ + 10 * kDay, t0_ + 11 * kDay});
  ASSERT_TRUE(r);
  EXPECT_FALSE(figure(r->targets, "deployment_success_rate").value);
  EXPECT_FALSE(figure(r->targets, "smoke_pass_rate").value);
  EXPECT_FALSE(figure(r->dora, "lead_time").value);
  EXPECT_DOUBLE_EQ(*figure(r->dora, "deployment_frequency").value, 0.0);
  EXPECT_NE(format_report(*r).find("no data"), std::string::npos);
}

TEST_F(ReportFigures, JsonCarriesEveryFigure) {
  Report r = compute("production");
  std::string j = report_to_json(r);
  for (const char* key : {"smoke_pass_rate", "mean_time_to_rollback", "uptime", "deployment_success_rate",
                          "approval_to_deployed", "monitoring_coverage", "deployment_frequency", "lead_time",
                          "change_failure_rate", "failed_deployment_recovery_time", "deployment_rework_rate"})
    EXPECT_NE(j.find(std::string("\"") + key + "\""), std::string::npos) << key;
}

}  // namespace
}  // namespace villager::report
