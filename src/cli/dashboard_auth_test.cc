#include "cli/dashboard_auth.h"

#include <gtest/gtest.h>

#include "cli/dashboard_server.h"

namespace villager::cli {
namespace {

const std::string kRead(64, 'r');
const std::string kOperator(64, 'o');

DashboardAuth make_auth() {
  return DashboardAuth(
      {{kRead, DashboardRole::kRead, "read"}, {kOperator, DashboardRole::kOperator, "alice"}});
}

TEST(DashboardAuth, BearerTokenGivesItsRoleAndName) {
  auto auth = make_auth();
  auto p = auth.authenticate({"Bearer " + kOperator});
  ASSERT_TRUE(p);
  EXPECT_EQ(p->role, DashboardRole::kOperator);
  EXPECT_EQ(p->name, "alice");
  EXPECT_FALSE(auth.authenticate({"Bearer " + std::string(64, 'x')}));
  EXPECT_FALSE(auth.authenticate({}));
}

TEST(DashboardAuth, ReadOnlyCannotAct) {
  auto auth = make_auth();
  auto p = auth.authenticate({"Bearer " + kRead});
  ASSERT_TRUE(p);
  EXPECT_NE(auth.action_refusal(*p, {}), "");
  auto op = auth.authenticate({"Bearer " + kOperator});
  EXPECT_EQ(auth.action_refusal(*op, {}), "");  // a bearer token is never sent by a browser on its own
}

TEST(DashboardAuth, SessionNeedsCsrfTokenAndOwnOrigin) {
  auto auth = make_auth();
  auto s = auth.open_session(kOperator);
  ASSERT_TRUE(s);
  EXPECT_NE(s->session, kOperator);  // the cookie is not the token
  AuthRequest req;
  req.cookie = "a=b; " + std::string(DashboardAuth::kCookieName) + "=" + s->session;
  req.host = "127.0.0.1:8790";
  auto p = auth.authenticate(req);
  ASSERT_TRUE(p);
  EXPECT_NE(auth.action_refusal(*p, req), "");  // no CSRF token
  req.csrf = s->csrf;
  req.origin = "http://evil.example";
  EXPECT_NE(auth.action_refusal(*p, req), "");
  req.origin = "http://127.0.0.1:8790";
  EXPECT_EQ(auth.action_refusal(*p, req), "");
  auth.close_session(s->session);
  EXPECT_FALSE(auth.authenticate(req));
}

TEST(DashboardAuth, UnknownTokenOpensNoSession) {
  auto auth = make_auth();
  EXPECT_FALSE(auth.open_session("nope"));
}

TEST(DashboardServer, QueryParamsAreDecoded) {
  EXPECT_EQ(query_param("env=production&path=05%2F12%2Fv1.md", "path"), "05/12/v1.md");
  EXPECT_EQ(query_param("a=two+words", "a"), "two words");
  EXPECT_EQ(query_param("a=1", "b"), "");
}

TEST(DashboardServer, OnlyLoopbackHostsAreLoopback) {
  EXPECT_TRUE(is_loopback_host("127.0.0.1"));
  EXPECT_TRUE(is_loopback_host("127.1.2.3"));
  EXPECT_FALSE(is_loopback_host("0.0.0.0"));
  EXPECT_FALSE(is_loopback_host("10.0.0.1"));
}

}  // namespace
}  // namespace villager::cli
