#include "smoke/smoke.h"

#include <gtest/gtest.h>

#include "testutil/fake_clock.h"
#include "testutil/nginx_server.h"

namespace villager::smoke {

namespace {

config::Config config_for(const std::string& extra = "") {
  auto c = config::parse_config(R"(
[project]
name = "t"
version_file = "version"

[services.web]
build_dir = "x"
command = ["true"]

[environments.e]
target = "url"
urls = { web = "http://127.0.0.1:1" }

[smoke]
health_interval = "500ms"
health_deadline = "3s"
)" + extra,
                                "/t/villager.toml");
  EXPECT_TRUE(c.has_value()) << c.error().message;
  return *c;
}

}  // namespace

TEST(RunSmoke, HealthRetriesAtTheIntervalUntilTheDeadline) {
  auto nginx = NginxServer::start("location = /info/health { return 503 'cold'; }");
  ASSERT_TRUE(nginx.has_value()) << nginx.error().message;
  FakeClock clock;
  SmokeOptions opts;
  opts.only = {"health"};
  opts.clock = &clock;
  auto report = run_smoke(config_for(), {{"web", (*nginx)->url(), "", ""}}, opts);
  ASSERT_TRUE(report.has_value()) << report.error().message;
  ASSERT_EQ(report->checks.size(), 1u);
  const auto& c = report->checks[0];
  EXPECT_FALSE(c.passed);
  ASSERT_EQ(c.failures.size(), 1u);
  // Attempts at 0, 0.5s, ..., 3s: seven, and the fake clock moved exactly to the deadline.
  EXPECT_NE(c.failures[0].actual.find("status 503, body cold (after 7 attempts)"), std::string::npos)
      << c.failures[0].actual;
  EXPECT_EQ(c.failures[0].what, "GET " + (*nginx)->url() + "/info/health");
}

TEST(RunSmoke, HealthPassesOnAHealthyAnswer) {
  auto nginx = NginxServer::start("location = /info/health { return 200 '{\"status\":\"ok\"}'; }");
  ASSERT_TRUE(nginx.has_value()) << nginx.error().message;
  FakeClock clock;
  SmokeOptions opts;
  opts.only = {"health"};
  opts.clock = &clock;
  auto report = run_smoke(config_for(), {{"web", (*nginx)->url(), "", ""}}, opts);
  ASSERT_TRUE(report.has_value());
  EXPECT_TRUE(report->passed);
}

TEST(RunSmoke, ConnectToReachesASlotUnderThePublicName) {
  auto nginx = NginxServer::start(
      "location = /info/health { if ($host != \"send.example\") { return 421; } return 200 "
      "'{\"status\":\"ok\"}'; }");
  ASSERT_TRUE(nginx.has_value()) << nginx.error().message;
  FakeClock clock;
  SmokeOptions opts;
  opts.only = {"health"};
  opts.clock = &clock;
  auto report =
      run_smoke(config_for(),
                {{"web", "http://send.example", "127.0.0.1:" + std::to_string((*nginx)->port()), ""}}, opts);
  ASSERT_TRUE(report.has_value());
  EXPECT_TRUE(report->passed) << to_json(*report);
}

TEST(RunSmoke, DeclaredCheckRetriesThenReportsTheLastAnswer) {
  auto nginx = NginxServer::start("location = /v { add_header x-service-version v1.0.0; return 200 'ok'; }");
  ASSERT_TRUE(nginx.has_value()) << nginx.error().message;
  auto cfg = config_for(R"(
[[smoke.check]]
name = "version"
path = "/v"
retries = 2
retry_interval = "1s"
expect = { headers = { x-service-version = "${VERSION}" } }
)");
  FakeClock clock;
  SmokeOptions opts;
  opts.only = {"version"};
  opts.clock = &clock;
  opts.version = "v2.0.0";
  auto t0 = clock.steady_now();
  auto report = run_smoke(cfg, {{"web", (*nginx)->url(), "", ""}}, opts);
  ASSERT_TRUE(report.has_value());
  ASSERT_EQ(report->checks.size(), 1u);
  EXPECT_FALSE(report->checks[0].passed);
  EXPECT_EQ(report->checks[0].failures[0].expected, "x-service-version: v2.0.0");
  EXPECT_EQ(report->checks[0].failures[0].actual, "x-service-version: v1.0.0");
  EXPECT_EQ(clock.steady_now() - t0, std::chrono::seconds(2));  // two waits of retry_interval

  opts.version = "v1.0.0";
  report = run_smoke(cfg, {{"web", (*nginx)->url(), "", ""}}, opts);
  ASSERT_TRUE(report.has_value());
  EXPECT_TRUE(report->passed);
}

TEST(RunSmoke, UnknownCheckOrServiceIsAUsageError) {
  SmokeOptions opts;
  opts.only = {"helth"};
  auto r = run_smoke(config_for(), {{"web", "http://127.0.0.1:1", "", ""}}, opts);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Code::kInvalidArgument);
  EXPECT_NE(r.error().message.find("did you mean 'health'"), std::string::npos);
  opts.only.clear();
  EXPECT_FALSE(run_smoke(config_for(), {{"nope", "http://127.0.0.1:1", "", ""}}, opts).has_value());
}

}  // namespace villager::smoke

namespace villager::smoke {

TEST(EnvironmentTargets, LocalUsesListenAndTheAgentLayout) {
  auto c = config::parse_config(R"(
[project]
name = "t"
version_file = "version"
[services.user]
build_dir = "x"
command = ["true"]
[services.admin]
build_dir = "x"
command = ["true"]
[environments.explorer]
target = "local"
listen = { user = "127.0.0.1:8080", admin = "127.0.0.1:8081" }
[environments.live]
target = "url"
urls = { user = "https://send.example" }
)",
                                "/p/villager.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  auto local = environment_targets(*c, *c->environment("explorer"), {});
  ASSERT_TRUE(local.has_value());
  ASSERT_EQ(local->size(), 2u);
  EXPECT_EQ((*local)[0].service, "user");  // config order
  EXPECT_EQ((*local)[0].base_url, "http://127.0.0.1:8080");
  EXPECT_EQ((*local)[1].base_url, "http://127.0.0.1:8081");
  auto paths = local_scan_paths(*c, *c->environment("explorer"), *local);
  std::vector<std::filesystem::path> want = {
      "/p/.villager/data/explorer/user", "/p/.villager/logs/explorer/user",
      "/p/.villager/data/explorer/admin", "/p/.villager/logs/explorer/admin", "/p/.villager/logs/agent.log"};
  EXPECT_EQ(paths, want);

  auto live = environment_targets(*c, *c->environment("live"), {"user"});
  ASSERT_TRUE(live.has_value());
  EXPECT_EQ((*live)[0].base_url, "https://send.example");
  EXPECT_TRUE(local_scan_paths(*c, *c->environment("live"), *live).empty());
  auto bad = environment_targets(*c, *c->environment("live"), {"admin"});
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("environment live has no service 'admin'"), std::string::npos);
}

TEST(EnvironmentTargets, AFleetIsReachedThroughItsFrontOrElseItsFirstHost) {
  auto c = config::parse_config(R"(
[project]
name = "t"
version_file = "version"
[services.user]
build_dir = "x"
command = ["true"]
[services.admin]
build_dir = "x"
command = ["true"]
[environments.fleet]
target = "ssh"
listen = { user = "0.0.0.0:8080", admin = "0.0.0.0:8081" }
hosts = [{ name = "web1", address = "10.0.0.11" }, { name = "web2", address = "10.0.0.12" }]
front = { listen = { user = "127.0.0.1:9080" } }
)",
                                "/p/villager.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  auto t = environment_targets(*c, *c->environment("fleet"), {});
  ASSERT_TRUE(t.has_value()) << t.error().message;
  ASSERT_EQ(t->size(), 2u);
  EXPECT_EQ((*t)[0].base_url, "http://127.0.0.1:9080");  // user: the front
  EXPECT_EQ((*t)[1].base_url, "http://10.0.0.11:8081");  // admin has no front: the first host
}

}  // namespace villager::smoke

namespace villager::smoke {

TEST(RunSmoke, FrontendFollowsSameOriginRedirectsToTheFinalPage) {
  auto nginx = NginxServer::start(
      "location = / { return 307 /v1/; } location = /v1/ { return 302 /v1/index.html; } "
      "location = /v1/index.html { default_type text/html; return 200 '<p>final</p>'; }");
  ASSERT_TRUE(nginx.has_value()) << nginx.error().message;
  auto cfg = config_for();
  cfg.services[0].frontend_pages = {"/"};
  cfg.smoke.frontend_text["/"] = "final";
  SmokeOptions opts;
  opts.only = {"frontend"};
  auto report = run_smoke(cfg, {{"web", (*nginx)->url(), "", ""}}, opts);
  ASSERT_TRUE(report.has_value()) << report.error().message;
  ASSERT_EQ(report->checks.size(), 1u);
  const auto& c = report->checks[0];
  EXPECT_TRUE(c.passed) << to_json(*report);
  ASSERT_EQ(c.redirects.size(), 2u);
  EXPECT_EQ(c.redirects[0].from, (*nginx)->url() + "/");
  EXPECT_EQ(c.redirects[0].status, 307);
  EXPECT_EQ(c.redirects[1].status, 302);
  EXPECT_NE(to_json(*report).find("\"redirects\""), std::string::npos);
}

TEST(RunSmoke, FrontendFailsAfterMaxRedirects) {
  auto nginx = NginxServer::start(
      "location = / { return 307 /a; } location = /a { return 307 /b; } "
      "location = /b { default_type text/html; return 200 'ok'; }");
  ASSERT_TRUE(nginx.has_value()) << nginx.error().message;
  auto cfg = config_for();
  cfg.services[0].frontend_pages = {"/"};
  cfg.smoke.max_redirects = 1;
  SmokeOptions opts;
  opts.only = {"frontend"};
  auto report = run_smoke(cfg, {{"web", (*nginx)->url(), "", ""}}, opts);
  ASSERT_TRUE(report.has_value()) << report.error().message;
  const auto& c = report->checks[0];
  ASSERT_FALSE(c.passed);
  EXPECT_NE(c.failures[0].actual.find("more than 1 redirects"), std::string::npos) << c.failures[0].actual;
}

}  // namespace villager::smoke
