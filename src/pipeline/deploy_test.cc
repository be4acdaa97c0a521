#include "pipeline/deploy.h"

#include <gtest/gtest.h>

#include "base/fs.h"
#include "store/store.h"
#include "testutil/fake_clock.h"
#include "testutil/fake_target.h"
#include "testutil/temp_dir.h"

namespace villager::pipeline {

namespace {

// A project with one service whose build changes with its version, a real store and a fake target.
class DeployTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ensure_dir(dir_ / "dist/user").ok());
    set_version("v1.0.0");
    auto cfg = config::parse_config(R"(
[project]
name = "t"
version_file = "version"
[services.user]
build_dir = "dist/user"
command = ["bin/run", "${PORT}"]
[environments.explorer]
target = "local"
listen = { user = "127.0.0.1:18080" }
strategy = "canary"
steps = [10, 50, 100]
step_interval = "30s"
)",
                                    dir_ / "villager.toml");
    ASSERT_TRUE(cfg.has_value()) << cfg.error().message;
    config_ = std::move(*cfg);
    auto st = store::Store::open(config_.state_dir());
    ASSERT_TRUE(st.has_value()) << st.error().message;
    store_ = std::move(*st);
  }

  void set_version(const std::string& v) {
    ASSERT_TRUE(write_file_atomic(dir_ / "version", v + "\n").ok());
    ASSERT_TRUE(write_file_atomic(dir_ / "dist/user/app.txt", "build " + v + "\n").ok());
  }

  DeployOutcome run_deploy(bool first = false, const DeployHooks& hooks = {}) {
    DeployRequest req;
    req.environment = "explorer";
    req.actor = "test";
    req.first = first;
    return deploy(config_, *store_, target_, req, hooks, clock_, nullptr);
  }

  RollbackOutcome run_rollback() {
    RollbackRequest req;
    req.environment = "explorer";
    req.actor = "test";
    return rollback(config_, *store_, target_, req, {}, clock_, nullptr);
  }

  TempDir dir_;
  config::Config config_;
  std::unique_ptr<store::Store> store_;
  FakeTarget target_;
  FakeClock clock_;
};

int count_calls(const std::vector<std::string>& calls, const std::string& prefix) {
  int n = 0;
  for (const auto& c : calls) n += c.rfind(prefix, 0) == 0;
  return n;
}

}  // namespace

TEST_F(DeployTest, FirstDeployNeedsTheFirstFlag) {
  auto o = run_deploy();
  EXPECT_EQ(o.exit_code, 3) << o.message;
  EXPECT_NE(o.message.find("--first"), std::string::npos);
  EXPECT_EQ(count_calls(target_.calls, "start"), 0);
}

TEST_F(DeployTest, CanaryShiftsThroughEachStepThenPromotes) {
  ASSERT_EQ(run_deploy(true).exit_code, 0);
  std::string v1 = target_.serving("user");
  set_version("v2.0.0");
  target_.calls.clear();
  auto before = clock_.steady_now();
  auto o = run_deploy();
  ASSERT_EQ(o.exit_code, 0) << o.message;
  std::string v2 = o.services.at(0).digest;
  ASSERT_NE(v1, v2);
  std::vector<std::string> weights;
  for (const auto& c : target_.calls)
    if (c.rfind("weights", 0) == 0) weights.push_back(c);
  ASSERT_EQ(weights.size(), 3u);
  EXPECT_NE(weights[0].find(v1 + "=90"), std::string::npos) << weights[0];
  EXPECT_NE(weights[0].find(v2 + "=10"), std::string::npos) << weights[0];
  EXPECT_NE(weights[1].find(v2 + "=50"), std::string::npos) << weights[1];
  EXPECT_EQ(weights[2], "weights user " + v2 + "=100");
  EXPECT_EQ(target_.serving("user"), v2);
  // Two pauses of step_interval (at 10% and 50%), on the fake clock.
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::seconds>(clock_.steady_now() - before).count(), 60);
  auto kg = store::current_known_good(*store_, "explorer", "user");
  ASSERT_TRUE(kg.has_value() && kg->has_value());
  EXPECT_EQ((*kg)->digest, v2);
  auto d = store::get_deployment(*store_, o.services[0].deployment_id);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->status, store::DeploymentStatus::kSucceeded);
  EXPECT_EQ(d->from_digest, v1);
}

TEST_F(DeployTest, UnhealthyCandidateMovesNoTraffic) {
  ASSERT_EQ(run_deploy(true).exit_code, 0);
  std::string v1 = target_.serving("user");
  set_version("v2.0.0");
  // The digest is only known after packaging: fail every start but the serving one's.
  auto packed = run_deploy();  // v2 first succeeds to learn its digest...
  ASSERT_EQ(packed.exit_code, 0);
  auto rb = run_rollback();
  ASSERT_EQ(rb.exit_code, 0) << rb.message;
  target_.unhealthy.insert(packed.services[0].digest);
  target_.calls.clear();
  auto o = run_deploy();  // ...then the same build never becomes healthy.
  EXPECT_EQ(o.exit_code, 1) << o.message;
  EXPECT_NE(o.message.find("no traffic was moved"), std::string::npos) << o.message;
  for (const auto& c : target_.calls)
    if (c.rfind("weights", 0) == 0)
      EXPECT_EQ(c, "weights user " + v1 + "=100") << "only a restore may touch weights";
  EXPECT_EQ(target_.serving("user"), v1);
  EXPECT_EQ(store::get_deployment(*store_, o.services[0].deployment_id)->status,
            store::DeploymentStatus::kFailed);
}

TEST_F(DeployTest, FailedCanaryCheckRollsBack) {
  ASSERT_EQ(run_deploy(true).exit_code, 0);
  std::string v1 = target_.serving("user");
  set_version("v2.0.0");
  DeployHooks hooks;
  hooks.canary_check = [](const std::string&, const std::string&, int weight, std::string& detail) -> Status {
    detail = R"({"verdict":"fail"})";
    if (weight == 50) return FailedPrecondition("error rate 20% against 0% for the baseline");
    return Ok();
  };
  auto o = run_deploy(false, hooks);
  EXPECT_EQ(o.exit_code, 4) << o.message;
  EXPECT_EQ(target_.serving("user"), v1);
  EXPECT_EQ(target_.weight("user", v1), 100);
  EXPECT_EQ(target_.weight("user", o.services[0].digest), 0);
  EXPECT_EQ(store::get_deployment(*store_, o.services[0].deployment_id)->status,
            store::DeploymentStatus::kRolledBack);
  // The verdict is stored with the step.
  auto steps = store::list_steps(*store_, o.services[0].deployment_id);
  ASSERT_TRUE(steps.has_value());
  EXPECT_NE(steps->back().detail.find("\"verdict\":\"fail\""), std::string::npos) << steps->back().detail;
}

TEST_F(DeployTest, FailedPreTrafficSmokeStopsBeforeAnyTraffic) {
  ASSERT_EQ(run_deploy(true).exit_code, 0);
  set_version("v2.0.0");
  DeployHooks hooks;
  hooks.pre_traffic_smoke = [](const std::string&, const std::string& url, const std::string&,
                               std::string&) -> Status {
    EXPECT_EQ(url.rfind("http://slot:", 0), 0u)
        << "the candidate is smoked directly, not through the public URL";
    return FailedPrecondition("auth: GET /tokens/list without a key answered 200");
  };
  target_.calls.clear();
  auto o = run_deploy(false, hooks);
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_EQ(count_calls(target_.calls, "promote"), 0);
  EXPECT_EQ(count_calls(target_.calls, "stop"), 1);
}

TEST_F(DeployTest, FailedPostTrafficSmokeRollsBack) {
  ASSERT_EQ(run_deploy(true).exit_code, 0);
  std::string v1 = target_.serving("user");
  set_version("v2.0.0");
  DeployHooks hooks;
  hooks.post_traffic_smoke = [](const std::vector<std::string>& services, const std::string&,
                                std::string&) -> Status {
    EXPECT_EQ(services, std::vector<std::string>{"user"});
    return FailedPrecondition("cors");
  };
  auto o = run_deploy(false, hooks);
  EXPECT_EQ(o.exit_code, 4);
  EXPECT_EQ(target_.serving("user"), v1);
}

TEST_F(DeployTest, RollbackSkipsAReleaseThatWasRolledBackAwayFrom) {
  ASSERT_EQ(run_deploy(true).exit_code, 0);
  std::string v1 = target_.serving("user");
  set_version("v2.0.0");
  ASSERT_EQ(run_deploy().exit_code, 0);
  auto rb = run_rollback();
  ASSERT_EQ(rb.exit_code, 0) << rb.message;
  EXPECT_TRUE(rb.warm.at("user"));
  EXPECT_EQ(target_.serving("user"), v1);
  set_version("v3.0.0");
  ASSERT_EQ(run_deploy().exit_code, 0);
  // v2 was rolled back away from: the rollback from v3 goes to v1.
  auto rb2 = run_rollback();
  ASSERT_EQ(rb2.exit_code, 0) << rb2.message;
  EXPECT_EQ(target_.serving("user"), v1);
  EXPECT_EQ(rb2.services.at(0).version, "v1.0.0");
}

TEST_F(DeployTest, RollbackWithNothingToReturnToFails) {
  ASSERT_EQ(run_deploy(true).exit_code, 0);
  auto rb = run_rollback();
  EXPECT_EQ(rb.exit_code, 1);
  EXPECT_NE(rb.message.find("no previous known-good release"), std::string::npos) << rb.message;
}

}  // namespace villager::pipeline
