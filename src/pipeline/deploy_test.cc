#include "pipeline/deploy.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "base/fs.h"
#include "pipeline/abort.h"
#include "pipeline/held.h"
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
    load(R"(
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
)");
  }

  // The project's villager.toml, and the store in its state dir.
  void load(const std::string& toml) {
    auto cfg = config::parse_config(toml, dir_ / "villager.toml");
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
  for (const auto& c : target_.calls) {
    if (c.rfind("weights", 0) == 0) {
      EXPECT_EQ(c, "weights user " + v1 + "=100") << "only a restore may touch weights";
    }
  }
  EXPECT_EQ(target_.serving("user"), v1);
  EXPECT_EQ(store::get_deployment(*store_, o.services[0].deployment_id)->status,
            store::DeploymentStatus::kFailed);
}

TEST_F(DeployTest, FailedCanaryCheckRollsBack) {
  ASSERT_EQ(run_deploy(true).exit_code, 0);
  std::string v1 = target_.serving("user");
  set_version("v2.0.0");
  DeployHooks hooks;
  hooks.canary_check = [](const std::string&, const std::string&, const std::string&, int weight,
                          const std::function<Status()>&, store::StepDetail& detail) -> Status {
    detail.canary.emplace().verdict = "fail";
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

// Two services deployed together, as SGraph Send's user and admin are.
class TwoServiceDeployTest : public DeployTest {
 protected:
  void SetUp() override {
    for (const char* s : {"user", "admin"}) ASSERT_TRUE(ensure_dir(dir_ / "dist" / s).ok());
    write_builds("v1.0.0");
    load(R"(
[project]
name = "t"
version_file = "version"
[services.user]
build_dir = "dist/user"
command = ["bin/run", "${PORT}"]
[services.admin]
build_dir = "dist/admin"
command = ["bin/run", "${PORT}"]
[environments.explorer]
target = "local"
listen = { user = "127.0.0.1:18080", admin = "127.0.0.1:18081" }
strategy = "canary"
steps = [10, 100]
step_interval = "30s"
)");
  }
  void write_builds(const std::string& v) {
    ASSERT_TRUE(write_file_atomic(dir_ / "version", v + "\n").ok());
    for (const char* s : {"user", "admin"})
      ASSERT_TRUE(
          write_file_atomic(dir_ / "dist" / s / "app.txt", std::string(s) + " build " + v + "\n").ok());
  }
};

TEST_F(TwoServiceDeployTest, EachServiceRowKeepsItsOwnCanaryVerdict) {
  ASSERT_EQ(run_deploy(true).exit_code, 0);
  write_builds("v2.0.0");
  DeployHooks hooks;
  hooks.canary_check = [](const std::string& service, const std::string&, const std::string&, int,
                          const std::function<Status()>&, store::StepDetail& detail) -> Status {
    detail.canary.emplace().summary = "judged " + service;
    return Ok();
  };
  auto o = run_deploy(false, hooks);
  ASSERT_EQ(o.exit_code, 0) << o.message;
  ASSERT_EQ(o.services.size(), 2u);
  for (const auto& r : o.services) {
    auto steps = store::list_steps(*store_, r.deployment_id);
    ASSERT_TRUE(steps.has_value());
    auto shift =
        std::find_if(steps->begin(), steps->end(), [](const auto& s) { return s.name == "shift:10"; });
    ASSERT_NE(shift, steps->end());
    auto d = store::parse_step_detail(shift->detail);
    ASSERT_TRUE(d.canary.has_value()) << shift->detail;
    EXPECT_EQ(d.canary->summary, "judged " + r.service) << shift->detail;
    EXPECT_EQ(d.weight, 10);
  }
}

TEST_F(DeployTest, FailedPreTrafficSmokeStopsBeforeAnyTraffic) {
  ASSERT_EQ(run_deploy(true).exit_code, 0);
  set_version("v2.0.0");
  DeployHooks hooks;
  hooks.pre_traffic_smoke = [](const std::string&, const std::string& url, const std::string&,
                               store::StepDetail&) -> Status {
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
                                store::StepDetail&) -> Status {
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

namespace {

// Collects what deploy tells hooks.notify, as "kind:outcome[:weight]".
struct EventLog {
  std::vector<notify::PipelineEvent> events;
  void attach(DeployHooks& hooks) {
    hooks.notify = [this](const notify::PipelineEvent& e) { events.push_back(e); };
  }
  std::vector<std::string> kinds() const {
    std::vector<std::string> out;
    for (const auto& e : events)
      out.push_back(e.kind + ":" + e.outcome + (e.weight >= 0 ? ":" + std::to_string(e.weight) : ""));
    return out;
  }
};

}  // namespace

TEST_F(DeployTest, NotifiesEachStageOfASuccessfulDeployInOrder) {
  ASSERT_EQ(run_deploy(true).exit_code, 0);
  set_version("v2.0.0");
  DeployHooks hooks;
  hooks.watch = [](store::StepDetail&) { return Ok(); };
  EventLog log;
  log.attach(hooks);
  auto o = run_deploy(false, hooks);
  ASSERT_EQ(o.exit_code, 0) << o.message;
  EXPECT_EQ(log.kinds(),
            (std::vector<std::string>{"deploy_started:started", "canary_step:passed:10",
                                      "canary_step:passed:50", "deployed:succeeded", "watch_passed:passed"}));
  const auto& deployed = log.events[3];
  EXPECT_EQ(deployed.environment, "explorer");
  EXPECT_EQ(deployed.service, "user");
  EXPECT_EQ(deployed.version, "v2.0.0");
  EXPECT_EQ(deployed.digest, o.services[0].digest);
  EXPECT_EQ(deployed.actor, "test");
  EXPECT_EQ(deployed.deployment_id, o.services[0].deployment_id);
  EXPECT_EQ(deployed.duration_ms, 60000);  // two step intervals on the fake clock
}

TEST_F(DeployTest, NotifiesAFailedCanaryStepAndTheAutomaticRollback) {
  ASSERT_EQ(run_deploy(true).exit_code, 0);
  set_version("v2.0.0");
  DeployHooks hooks;
  hooks.canary_check = [](const std::string&, const std::string&, const std::string&, int weight,
                          const std::function<Status()>&, store::StepDetail&) -> Status {
    return weight == 50 ? Status(FailedPrecondition("error rate 20%")) : Ok();
  };
  EventLog log;
  log.attach(hooks);
  ASSERT_EQ(run_deploy(false, hooks).exit_code, 4);
  EXPECT_EQ(log.kinds(), (std::vector<std::string>{"deploy_started:started", "canary_step:passed:10",
                                                   "canary_step:failed:50", "rolled_back:rolled_back"}));
  EXPECT_EQ(log.events[2].reasons, (std::vector<std::string>{"error rate 20%"}));
  EXPECT_EQ(log.events[3].trigger, "canary at 50%: error rate 20%");
}

TEST_F(DeployTest, NotifiesAWatchAlarmRollbackWithItsTrigger) {
  ASSERT_EQ(run_deploy(true).exit_code, 0);
  set_version("v2.0.0");
  DeployHooks hooks;
  hooks.watch = [](store::StepDetail&) -> Status { return FailedPrecondition("alarm 5xx fired"); };
  EventLog log;
  log.attach(hooks);
  ASSERT_EQ(run_deploy(false, hooks).exit_code, 4);
  ASSERT_FALSE(log.events.empty());
  EXPECT_EQ(log.kinds().back(), "rolled_back:rolled_back");
  EXPECT_EQ(log.events.back().trigger, "alarm 5xx fired");
  for (const auto& e : log.events) EXPECT_NE(e.kind, "watch_passed");
}

TEST_F(DeployTest, NotifiesABlockedReleaseWhenPreTrafficSmokeFails) {
  ASSERT_EQ(run_deploy(true).exit_code, 0);
  set_version("v2.0.0");
  DeployHooks hooks;
  hooks.pre_traffic_smoke = [](const std::string&, const std::string&, const std::string&,
                               store::StepDetail&) -> Status {
    return FailedPrecondition("smoke checks failed: auth/user");
  };
  EventLog log;
  log.attach(hooks);
  ASSERT_EQ(run_deploy(false, hooks).exit_code, 1);
  EXPECT_EQ(log.kinds(), (std::vector<std::string>{"deploy_started:started", "smoke_failed:blocked"}));
  EXPECT_EQ(log.events[1].reasons, (std::vector<std::string>{"smoke checks failed: auth/user"}));
}

TEST_F(DeployTest, NotifiesAManualRollback) {
  ASSERT_EQ(run_deploy(true).exit_code, 0);
  set_version("v2.0.0");
  ASSERT_EQ(run_deploy().exit_code, 0);
  DeployHooks hooks;
  EventLog log;
  log.attach(hooks);
  RollbackRequest req;
  req.environment = "explorer";
  req.actor = "alice";
  req.reason = "manual";
  auto o = rollback(config_, *store_, target_, req, hooks, clock_, nullptr);
  ASSERT_EQ(o.exit_code, 0) << o.message;
  EXPECT_EQ(log.kinds(), (std::vector<std::string>{"rolled_back:rolled_back"}));
  EXPECT_EQ(log.events[0].version, "v1.0.0");
  EXPECT_EQ(log.events[0].trigger, "manual");
  EXPECT_EQ(log.events[0].actor, "alice");
}

// on_inconclusive = "hold": the canary hook holds at 10%, the deploy ends with exit 5, traffic stays
// split, both releases keep running and the deployment stays open with a hold step.
TEST_F(DeployTest, AHeldCanaryKeepsTheTrafficSplitUntilPromoted) {
  ASSERT_EQ(run_deploy(true).exit_code, 0);
  std::string v1 = target_.serving("user");
  set_version("v2.0.0");
  DeployHooks hooks;
  hooks.canary_check = [](const std::string&, const std::string&, const std::string&, int,
                          const std::function<Status()>&, store::StepDetail&) -> Status {
    return canary_hold("inconclusive at the step's deadline");
  };
  auto o = run_deploy(false, hooks);
  ASSERT_EQ(o.exit_code, 5) << o.message;
  EXPECT_NE(o.message.find("villager promote explorer"), std::string::npos) << o.message;
  EXPECT_NE(o.message.find("villager rollback explorer"), std::string::npos) << o.message;
  std::string v2 = o.services.at(0).digest;
  EXPECT_EQ(target_.weight("user", v2), 10);
  EXPECT_EQ(target_.weight("user", v1), 90);
  EXPECT_EQ(target_.serving("user"), v1);
  auto held = find_held(*store_, "explorer", "user");
  ASSERT_TRUE(held.has_value() && held->has_value());
  EXPECT_EQ((*held)->weight, 10);
  EXPECT_EQ((*held)->deployment.digest, v2);
  EXPECT_EQ((*held)->deployment.status, store::DeploymentStatus::kRunning);

  // A new deploy is refused while held.
  set_version("v3.0.0");
  EXPECT_EQ(run_deploy().exit_code, 3);

  auto p = resolve_held(*store_, target_, {"explorer", {}, true, "test"}, {}, clock_, nullptr);
  ASSERT_EQ(p.exit_code, 0) << p.message;
  EXPECT_EQ(target_.weight("user", v2), 100);
  EXPECT_EQ(target_.serving("user"), v2);
  auto d = store::get_deployment(*store_, o.services[0].deployment_id);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->status, store::DeploymentStatus::kSucceeded);
  auto kg = store::current_known_good(*store_, "explorer", "user");
  ASSERT_TRUE(kg.has_value() && kg->has_value());
  EXPECT_EQ((*kg)->digest, v2);
  EXPECT_FALSE(find_held(*store_, "explorer", "user")->has_value());
  EXPECT_EQ(resolve_held(*store_, target_, {"explorer", {}, true, "test"}, {}, clock_, nullptr).exit_code, 2);
}

TEST_F(DeployTest, PromotingAHeldCanaryKeepsItsSmokeReportWithTheStep) {
  ASSERT_EQ(run_deploy(true).exit_code, 0);
  set_version("v2.0.0");
  DeployHooks hooks;
  hooks.canary_check = [](const std::string&, const std::string&, const std::string&, int,
                          const std::function<Status()>&, store::StepDetail&) -> Status {
    return canary_hold("inconclusive at the step's deadline");
  };
  auto o = run_deploy(false, hooks);
  ASSERT_EQ(o.exit_code, 5) << o.message;
  DeployHooks smoke;
  smoke.post_traffic_smoke = [](const std::vector<std::string>&, const std::string&,
                                store::StepDetail& detail) -> Status {
    detail.smoke = nlohmann::json{{"passed", true}, {"checks", nlohmann::json::array()}};
    return Ok();
  };
  auto p = resolve_held(*store_, target_, {"explorer", {}, true, "test"}, smoke, clock_, nullptr);
  ASSERT_EQ(p.exit_code, 0) << p.message;
  auto steps = store::list_steps(*store_, o.services[0].deployment_id);
  ASSERT_TRUE(steps.has_value() && !steps->empty());
  EXPECT_EQ(steps->back().name, "post_traffic_smoke");
  EXPECT_TRUE(store::parse_step_detail(steps->back().detail).smoke.is_object()) << steps->back().detail;
}

TEST_F(DeployTest, RollingBackAHeldCanaryRestoresTheServingRelease) {
  ASSERT_EQ(run_deploy(true).exit_code, 0);
  std::string v1 = target_.serving("user");
  set_version("v2.0.0");
  DeployHooks hooks;
  hooks.canary_check = [](const std::string&, const std::string&, const std::string&, int,
                          const std::function<Status()>&,
                          store::StepDetail&) -> Status { return canary_hold("inconclusive"); };
  auto o = run_deploy(false, hooks);
  ASSERT_EQ(o.exit_code, 5) << o.message;
  std::string v2 = o.services.at(0).digest;
  auto r = resolve_held(*store_, target_, {"explorer", {}, false, "test"}, {}, clock_, nullptr);
  ASSERT_EQ(r.exit_code, 0) << r.message;
  EXPECT_EQ(target_.weight("user", v1), 100);
  EXPECT_EQ(target_.serving("user"), v1);
  EXPECT_EQ(count_calls(target_.calls, "stop user " + v2), 1);
  auto d = store::get_deployment(*store_, o.services[0].deployment_id);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->status, store::DeploymentStatus::kRolledBack);
}

namespace {

// A fake clock whose `n`th sleep runs `then`: another process acting while the deploy waits.
class ActingClock : public FakeClock {
 public:
  void sleep_for(std::chrono::milliseconds d) override {
    FakeClock::sleep_for(d);
    if (++sleeps_ == n && then) then();
  }
  int n = 0;
  std::function<void()> then;

 private:
  int sleeps_ = 0;
};

}  // namespace

// `villager abort` records a request in the store from its own process; the deploy sees it within one
// poll of its step wait, and rolls back as a failed canary does, naming who asked.
TEST_F(DeployTest, AnAbortRequestDuringACanaryStepRollsBackWithoutWaitingItOut) {
  ASSERT_EQ(run_deploy(true).exit_code, 0);
  std::string v1 = target_.serving("user");
  set_version("v2.0.0");
  ActingClock clock;
  clock.n = 3;
  clock.then = [&] {
    auto other = store::Store::open(config_.state_dir());
    ASSERT_TRUE(other.has_value());
    auto asked = request_canary_abort(**other, {"explorer", {"user"}, "alice", "too slow"});
    ASSERT_TRUE(asked.has_value()) << asked.error().message;
    EXPECT_EQ(asked->size(), 1u);
  };
  DeployRequest req;
  req.environment = "explorer";
  req.actor = "ci";
  auto before = clock.steady_now();
  auto o = deploy(config_, *store_, target_, req, {}, clock, nullptr);
  ASSERT_EQ(o.exit_code, 4) << o.message;
  EXPECT_NE(o.message.find("aborted by alice: too slow"), std::string::npos) << o.message;
  EXPECT_LT(clock.steady_now() - before, std::chrono::seconds(30)) << "the 30 s step was cut short";
  EXPECT_EQ(target_.weight("user", v1), 100);
  EXPECT_EQ(target_.serving("user"), v1);
  auto d = store::get_deployment(*store_, o.services.at(0).deployment_id);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->status, store::DeploymentStatus::kRolledBack);
  EXPECT_NE(d->detail.find("\"aborted_by\""), std::string::npos) << d->detail;
  EXPECT_FALSE(store::pending_abort(*store_, {d->id}).value()) << "the request is handled";
  EXPECT_FALSE(find_running(*store_, "explorer", "user").value());
}

// A canary check that waits (the judge re-reading the agent) returns the abort as soon as it asks.
TEST_F(DeployTest, ACanaryCheckThatWaitsEndsOnAnAbort) {
  ASSERT_EQ(run_deploy(true).exit_code, 0);
  std::string v1 = target_.serving("user");
  set_version("v2.0.0");
  DeployHooks hooks;
  hooks.canary_check = [this](const std::string&, const std::string&, const std::string&, int weight,
                              const std::function<Status()>& aborted, store::StepDetail&) -> Status {
    auto running = find_running(*store_, "explorer", "user");
    EXPECT_TRUE(running.has_value() && running->has_value());
    EXPECT_EQ((*running)->weight, weight);
    EXPECT_TRUE(aborted().ok());
    EXPECT_TRUE(request_canary_abort(*store_, {"explorer", {"user"}, "bob", ""}).has_value());
    return aborted();
  };
  auto o = run_deploy(false, hooks);
  ASSERT_EQ(o.exit_code, 4) << o.message;
  EXPECT_NE(o.message.find("canary at 10% aborted by bob; rolled back"), std::string::npos) << o.message;
  EXPECT_EQ(target_.weight("user", v1), 100);
  EXPECT_EQ(request_canary_abort(*store_, {"explorer", {"user"}, "bob", ""}).error().code, Code::kNotFound)
      << "nothing runs any more";
}

}  // namespace villager::pipeline
