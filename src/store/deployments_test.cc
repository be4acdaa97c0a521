#include "store/deployments.h"

#include <gtest/gtest.h>

#include "store/test_helpers.h"

namespace villager::store {
namespace {

using testing::digest_of;
using testing::TestStore;

Deployment make(std::string env, std::string service, int64_t started_at = 0) {
  Deployment d;
  d.environment = std::move(env);
  d.service = std::move(service);
  d.version = "v1.0.0";
  d.digest = digest_of('b');
  d.from_digest = digest_of('a');
  d.actor = "alice";
  d.started_at = started_at;
  return d;
}

TEST(Deployments, CreateGetFinish) {
  TestStore s;
  auto id = create_deployment(*s, make("production", "user"));
  ASSERT_TRUE(id) << id.error().message;
  auto d = get_deployment(*s, *id);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->status, DeploymentStatus::kRunning);
  EXPECT_EQ(d->kind, DeploymentKind::kDeploy);
  EXPECT_EQ(d->from_digest, digest_of('a'));
  EXPECT_EQ(d->started_at, s->now_ms());
  EXPECT_FALSE(d->finished_at.has_value());

  s.clock.advance(std::chrono::seconds(42));
  ASSERT_TRUE(finish_deployment(*s, *id, DeploymentStatus::kRolledBack, R"({"reason":"5xx alarm"})").ok());
  d = get_deployment(*s, *id);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->status, DeploymentStatus::kRolledBack);
  EXPECT_EQ(d->finished_at.value_or(0), s->now_ms());
  EXPECT_EQ(d->finished_at.value_or(0) - d->started_at, 42000);
  EXPECT_EQ(d->detail, R"({"reason":"5xx alarm"})");
}

TEST(Deployments, FinishedDeploymentIsNotRewritten) {
  TestStore s;
  auto id = create_deployment(*s, make("production", "user"));
  ASSERT_TRUE(id);
  ASSERT_TRUE(finish_deployment(*s, *id, DeploymentStatus::kSucceeded).ok());
  Status again = finish_deployment(*s, *id, DeploymentStatus::kFailed);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, Code::kFailedPrecondition);
  EXPECT_EQ(get_deployment(*s, *id)->status, DeploymentStatus::kSucceeded);
  EXPECT_EQ(finish_deployment(*s, 999, DeploymentStatus::kFailed).error().code, Code::kNotFound);
  EXPECT_EQ(finish_deployment(*s, *id, DeploymentStatus::kRunning).error().code, Code::kInvalidArgument);
}

TEST(Deployments, DetailMustBeJson) {
  TestStore s;
  auto id = create_deployment(*s, make("production", "user"));
  ASSERT_TRUE(id);
  EXPECT_FALSE(finish_deployment(*s, *id, DeploymentStatus::kFailed, "not json").ok());
  EXPECT_EQ(get_deployment(*s, *id)->status, DeploymentStatus::kRunning);
}

TEST(Deployments, ListFiltersByEnvironmentSinceAndLimit) {
  TestStore s;
  ASSERT_TRUE(create_deployment(*s, make("production", "user", 1000)));
  ASSERT_TRUE(create_deployment(*s, make("explorer", "user", 2000)));
  ASSERT_TRUE(create_deployment(*s, make("production", "admin", 3000)));
  ASSERT_TRUE(create_deployment(*s, make("production", "user", 4000)));

  auto all = list_deployments(*s);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 4u);
  EXPECT_EQ((*all)[0].started_at, 4000);  // newest first

  auto prod = list_deployments(*s, {"production", "", 0, 0});
  ASSERT_TRUE(prod);
  EXPECT_EQ(prod->size(), 3u);
  auto recent = list_deployments(*s, {"production", "", 2500, 0});
  EXPECT_EQ(recent->size(), 2u);
  auto user = list_deployments(*s, {"production", "user", 0, 0});
  EXPECT_EQ(user->size(), 2u);
  auto one = list_deployments(*s, {"", "", 0, 1});
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].started_at, 4000);
}

TEST(Deployments, NewestIsTheLatestOfThatEnvironmentAndService) {
  TestStore s;
  auto none = newest_deployment(*s, "production", "user");
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
  ASSERT_TRUE(create_deployment(*s, make("production", "user", 1000)));
  auto second = create_deployment(*s, make("production", "user", 2000));
  ASSERT_TRUE(create_deployment(*s, make("production", "admin", 3000)));
  ASSERT_TRUE(create_deployment(*s, make("staging", "user", 4000)));
  auto newest = newest_deployment(*s, "production", "user");
  ASSERT_TRUE(newest && newest->has_value());
  EXPECT_EQ((*newest)->id, *second);
}

TEST(DeploymentSteps, AddFinishListInOrder) {
  TestStore s;
  auto id = create_deployment(*s, make("production", "user"));
  ASSERT_TRUE(id);
  auto a = add_step(*s, *id, "deploy");
  auto b = add_step(*s, *id, "smoke");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, 1);
  EXPECT_EQ(*b, 2);
  ASSERT_TRUE(finish_step(*s, *id, 1, StepStatus::kSucceeded).ok());
  ASSERT_TRUE(finish_step(*s, *id, 2, StepStatus::kFailed, R"({"check":"cors"})").ok());
  EXPECT_EQ(finish_step(*s, *id, 2, StepStatus::kSucceeded).error().code, Code::kFailedPrecondition);
  EXPECT_EQ(finish_step(*s, *id, 3, StepStatus::kSucceeded).error().code, Code::kNotFound);

  auto steps = list_steps(*s, *id);
  ASSERT_TRUE(steps);
  ASSERT_EQ(steps->size(), 2u);
  EXPECT_EQ((*steps)[0].name, "deploy");
  EXPECT_EQ((*steps)[0].status, StepStatus::kSucceeded);
  EXPECT_EQ((*steps)[1].name, "smoke");
  EXPECT_EQ((*steps)[1].status, StepStatus::kFailed);
  EXPECT_EQ((*steps)[1].detail, R"({"check":"cors"})");
}

TEST(DeploymentSteps, StepNeedsAnExistingDeployment) {
  TestStore s;
  auto r = add_step(*s, 12345, "deploy");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kNotFound);
}

TEST(Deployments, StatusNamesRoundTrip) {
  for (auto st : {DeploymentStatus::kRunning, DeploymentStatus::kSucceeded, DeploymentStatus::kFailed,
                  DeploymentStatus::kRolledBack})
    EXPECT_EQ(parse_deployment_status(to_string(st)).value_or(DeploymentStatus::kRunning), st);
  EXPECT_EQ(to_string(DeploymentStatus::kRolledBack), "rolled_back");
  EXPECT_FALSE(parse_deployment_kind("redeploy"));
}

}  // namespace
}  // namespace villager::store
