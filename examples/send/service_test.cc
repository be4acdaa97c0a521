#include "service.h"

#include <gtest/gtest.h>

#include "testutil/temp_dir.h"

namespace send_server {
namespace {

Request make_request(http::verb verb, const std::string& target) {
  Request req{verb, target, 11};
  return req;
}

Config admin_config(const villager::TempDir& dir) {
  Config c;
  c.mode = Mode::kAdmin;
  c.data_dir = dir.path();
  c.version = "v1.0.0";
  c.api_key_name = "x-api-key";
  c.api_key_value = "admin-key-value";
  return c;
}

TEST(Service, ErrorsFaultFailsExactlyTheFractionAsked) {
  villager::TempDir dir;
  Config c = admin_config(dir);
  c.faults.open_admin = true;
  c.faults.error_rate = 0.5;
  auto s = Service::create(c);
  ASSERT_TRUE(s.has_value()) << s.error().message;
  std::vector<unsigned> codes;
  for (int i = 0; i < 6; ++i)
    codes.push_back((*s)->handle(make_request(http::verb::get, "/tokens/list"), "::1").result_int());
  EXPECT_EQ(codes, (std::vector<unsigned>{200, 500, 200, 500, 200, 500}));
  // Health is not an API request: never failed by the fault.
  EXPECT_EQ((*s)->handle(make_request(http::verb::get, "/info/health"), "::1").result_int(), 200u);
}

TEST(Service, AdminKeyFromHeaderOrCookieOnly) {
  villager::TempDir dir;
  Config c = admin_config(dir);
  auto s = Service::create(c);
  ASSERT_TRUE(s.has_value());
  auto req = make_request(http::verb::get, "/tokens/list");
  EXPECT_EQ((*s)->handle(req, "127.0.0.1").result_int(), 401u);
  req.set(http::field::cookie, "a=b; x-api-key=admin-key-value");
  EXPECT_EQ((*s)->handle(req, "127.0.0.1").result_int(), 200u);
  req.set(http::field::cookie, "x-api-key=wrong");
  EXPECT_EQ((*s)->handle(req, "127.0.0.1").result_int(), 401u);
  req.set("X-API-KEY", "admin-key-value");
  auto res = (*s)->handle(req, "127.0.0.1");
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_EQ(res["x-service-version"], "v1.0.0");
}

TEST(Service, CorsEchoesOnlyAllowedOrigins) {
  villager::TempDir dir;
  Config c = admin_config(dir);
  c.cors_origins = {"https://send.sgraph.ai"};
  auto s = Service::create(c);
  ASSERT_TRUE(s.has_value());
  auto pre = make_request(http::verb::options, "/tokens/list");
  pre.set(http::field::access_control_request_method, "GET");
  pre.set(http::field::origin, "https://send.sgraph.ai");
  auto res = (*s)->handle(pre, "127.0.0.1");
  EXPECT_EQ(res.result_int(), 204u);
  EXPECT_EQ(res[http::field::access_control_allow_origin], "https://send.sgraph.ai");
  EXPECT_EQ(res[http::field::vary], "Origin");
  pre.set(http::field::origin, "https://send.sgraph.ai.evil.example");
  res = (*s)->handle(pre, "127.0.0.1");
  EXPECT_EQ(res.result_int(), 400u);
  EXPECT_EQ(res.count(http::field::access_control_allow_origin), 0u);
}

TEST(Service, UserModeNeedsItsFrontend) {
  villager::TempDir dir;
  Config c;
  c.mode = Mode::kUser;
  c.data_dir = dir.path();
  c.static_dir = dir.path();  // empty: no pages
  auto s = Service::create(c);
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().message.find("index.html is missing"), std::string::npos) << s.error().message;
}

}  // namespace
}  // namespace send_server
