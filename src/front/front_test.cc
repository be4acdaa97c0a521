#include "front/front.h"

#include <gtest/gtest.h>

#include "net/http.h"
#include "proxy/test_servers.h"

namespace villager::front {
namespace {

using proxy::testing::TestUpstream;

std::string get(uint16_t port, const std::string& path = "/") {
  net::HttpRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(port) + path;
  req.direct = true;
  auto r = net::http_send(req);
  if (!r) return "error: " + r.error().message;
  return std::to_string(r->status) + " " + r->body;
}

struct Recorder {
  std::mutex mu;
  std::vector<MemberChange> changes;
  std::function<void(const MemberChange&)> fn() {
    return [this](const MemberChange& c) {
      std::lock_guard lock(mu);
      changes.push_back(c);
    };
  }
  bool saw(const std::string& host, bool in_pool) {
    std::lock_guard lock(mu);
    for (const auto& c : changes)
      if (c.host == host && c.in_pool == in_pool) return true;
    return false;
  }
};

ServiceSpec spec(uint16_t a, uint16_t b) {
  ServiceSpec s;
  s.service = "user";
  s.listen = {"127.0.0.1", static_cast<uint16_t>(proxy::testing::unused_port())};
  s.health_path = "/info/health";
  s.headers = {{"x-api-key", "k-123"}};
  s.members = {{"web1", "127.0.0.1", a}, {"web2", "127.0.0.1", b}};
  return s;
}

uint16_t front_port(const Front& f) {
  std::string listen = f.state()["services"][0]["listen"];
  return static_cast<uint16_t>(std::stoi(listen.substr(listen.rfind(':') + 1)));
}

TEST(Front, SpreadsOverHealthyHostsAndDropsOneThatFails) {
  TestUpstream web1("web1"), web2("web2");
  Recorder rec;
  Front front({spec(web1.port(), web2.port())}, Checks{config::Millis(50), config::Millis(500), 2, 2},
              rec.fn());
  ASSERT_TRUE(front.start().ok());
  EXPECT_TRUE(rec.saw("web1", true) && rec.saw("web2", true));
  // The health check carries the service's key.
  EXPECT_EQ(web1.last_headers()["x-api-key"], "k-123");

  const uint16_t port = front_port(front);
  std::map<std::string, int> by;
  for (int i = 0; i < 60; ++i) ++by[get(port)];
  EXPECT_GT(by["200 web1"], 0);
  EXPECT_GT(by["200 web2"], 0);
  EXPECT_EQ(by["200 web1"] + by["200 web2"], 60);

  web2.stop();
  ASSERT_TRUE(proxy::testing::eventually([&] { return rec.saw("web2", false); }));
  for (int i = 0; i < 30; ++i) EXPECT_EQ(get(port), "200 web1");
  auto st = front.state()["services"][0]["members"];
  EXPECT_TRUE(st[0]["in_pool"].get<bool>());
  EXPECT_FALSE(st[1]["in_pool"].get<bool>());
  EXPECT_NE(st[1]["why"].get<std::string>(), "");
  EXPECT_GE(st[0]["requests"].get<uint64_t>(), 30u);
  front.stop();
}

TEST(Front, StartsWithoutTheHostsThatFailTheirFirstCheckAndNamesABusyAddress) {
  TestUpstream web1("web1");
  const uint16_t dead = static_cast<uint16_t>(proxy::testing::unused_port());
  Recorder rec;
  Front front({spec(web1.port(), dead)}, Checks{config::Millis(50), config::Millis(500), 2, 2}, rec.fn());
  ASSERT_TRUE(front.start().ok());
  EXPECT_TRUE(rec.saw("web2", false));
  const uint16_t port = front_port(front);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(get(port), "200 web1");

  auto busy = spec(web1.port(), dead);
  busy.listen.port = port;
  Front second({busy}, Checks{}, nullptr);
  Status s = second.start();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("127.0.0.1:" + std::to_string(port)), std::string::npos)
      << s.error().message;
}

TEST(FrontServices, ProtectedHealthNeedsItsKey) {
  auto c = config::parse_config(R"(
[project]
name = "demo"
version_file = "version"
[services.admin]
build_dir = "dist/admin"
command = ["bin/a", "${PORT}"]
protected_paths = ["/info/health"]
auth_header = "x-api-key"
auth_secret = "ADMIN_KEY"
[environments.fleet]
target = "ssh"
listen = { admin = "0.0.0.0:8081" }
hosts = [{ name = "web1", address = "10.0.0.11" }]
front = { listen = { admin = "127.0.0.1:9081" } }
)",
                                "v.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  const auto& env = *c->environment("fleet");
  auto none = front_services(*c, env, [](const std::string&) { return std::nullopt; });
  ASSERT_FALSE(none.has_value());
  EXPECT_NE(none.error().message.find("secret ADMIN_KEY is not set for fleet"), std::string::npos);
  auto ok = front_services(*c, env, [](const std::string&) { return std::optional<std::string>("k"); });
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  ASSERT_EQ((*ok)[0].members.size(), 1u);
  EXPECT_EQ((*ok)[0].members[0].address, "10.0.0.11");
  EXPECT_EQ((*ok)[0].members[0].port, 8081);
  EXPECT_EQ((*ok)[0].headers[0].second, "k");
}

}  // namespace
}  // namespace villager::front
