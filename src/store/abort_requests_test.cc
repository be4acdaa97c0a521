#include "store/abort_requests.h"

#include <gtest/gtest.h>

#include "store/test_helpers.h"

namespace villager::store {
namespace {

using testing::digest_of;
using testing::TestStore;

int64_t running_deploy(TestStore& s, const std::string& service) {
  Deployment d;
  d.environment = "production";
  d.service = service;
  d.version = "v2";
  d.digest = digest_of('b');
  d.actor = "ci";
  return create_deployment(*s, d).value();
}

TEST(AbortRequests, OldestPendingRequestOfTheDeployIsSeenUntilHandled) {
  TestStore s;
  int64_t user = running_deploy(s, "user"), admin = running_deploy(s, "admin"),
          other = running_deploy(s, "x");
  EXPECT_FALSE(pending_abort(*s, {user, admin}).value());
  ASSERT_TRUE(request_abort(*s, {0, other, "mallory", "", 0, std::nullopt}));
  EXPECT_FALSE(pending_abort(*s, {user, admin}).value()) << "another deploy's request is not ours";
  ASSERT_TRUE(request_abort(*s, {0, admin, "alice", "latency", 0, std::nullopt}));
  ASSERT_TRUE(request_abort(*s, {0, user, "bob", "", 0, std::nullopt}));
  auto p = pending_abort(*s, {user, admin});
  ASSERT_TRUE(p && *p);
  EXPECT_EQ((*p)->actor, "alice");
  EXPECT_EQ((*p)->reason, "latency");
  EXPECT_EQ((*p)->requested_at, s->now_ms());
  ASSERT_TRUE(mark_abort_handled(*s, admin).ok());
  EXPECT_EQ(pending_abort(*s, {user, admin}).value()->actor, "bob");
  ASSERT_TRUE(mark_abort_handled(*s, user).ok());
  EXPECT_FALSE(pending_abort(*s, {user, admin}).value());
}

TEST(AbortRequests, UnknownDeploymentIsNotFound) {
  TestStore s;
  auto r = request_abort(*s, {0, 42, "alice", "", 0, std::nullopt});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kNotFound);
}

TEST(AbortRequests, RequestSurvivesReopen) {
  TestStore s;
  int64_t id = running_deploy(s, "user");
  ASSERT_TRUE(request_abort(*s, {0, id, "alice", "", 0, std::nullopt}));
  s.reopen();  // the deploy's process is not the one that asked
  EXPECT_EQ(pending_abort(*s, {id}).value()->actor, "alice");
}

}  // namespace
}  // namespace villager::store
