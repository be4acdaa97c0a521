#include "smoke/sgraph_send/profile.h"

#include <gtest/gtest.h>

#include "base/strings.h"
#include "testutil/fake_clock.h"
#include "testutil/nginx_server.h"

namespace villager::smoke::sgraph_send {

namespace {

// A transfers-like service (it lists SGraph Send's secret) under the profile `top` names.
config::Config config_for(const std::string& top) {
  auto c = config::parse_config(top + R"(
[project]
name = "t"
version_file = "version"

[services.user]
build_dir = "x"
command = ["true"]
secrets = ["SGRAPH_SEND__ACCESS_TOKEN"]

[environments.e]
target = "url"
urls = { user = "http://127.0.0.1:1" }

[smoke]
cors_allowed_origins = ["https://app.example"]
health_deadline = "1s"
)",
                                "/t/villager.toml");
  EXPECT_TRUE(c.has_value()) << c.error().message;
  return *c;
}

// Every result's failures and notes as one text.
std::string everything(const SmokeReport& r) {
  std::string out;
  for (const auto& c : r.checks) {
    for (const auto& f : c.failures) out += f.what + " | " + f.expected + " | " + f.actual + "\n";
    for (const auto& n : c.notes) out += n + "\n";
  }
  return out;
}

// Any request carrying SGraph Send's token header is answered 418, which a check would report.
constexpr const char* kServer =
    "location / { if ($http_x_sgraph_access_token) { return 418; } "
    "if ($http_access_control_request_headers ~* x-sgraph) { return 418; } "
    "add_header Access-Control-Allow-Origin $http_origin; add_header Vary Origin; "
    "return 200 '{\"status\":\"ok\"}'; }";

}  // namespace

TEST(SgraphSendProfile, TheTransfersServiceNeedsTheProfile) {
  const auto none = config_for("profile = \"none\"\n");
  const auto sgraph = config_for("profile = \"sgraph-send\"\n");
  EXPECT_FALSE(is_transfers_service(none, none.services[0]));
  EXPECT_TRUE(is_transfers_service(sgraph, sgraph.services[0]));
}

TEST(SgraphSendProfile, ProfileNoneSendsNoSgraphHeaderAndNoTransfersPath) {
  auto nginx = NginxServer::start(kServer);
  ASSERT_TRUE(nginx.has_value()) << nginx.error().message;
  FakeClock clock;
  SmokeOptions opts;
  opts.only = {"auth", "cors", "plaintext"};
  opts.clock = &clock;
  opts.secret = [](const std::string&) { return std::optional<std::string>("t0ken-value"); };
  const std::vector<SmokeTarget> targets = {{"user", (*nginx)->url(), "", ""}};

  auto none = run_smoke(config_for("profile = \"none\"\n"), targets, opts);
  ASSERT_TRUE(none.has_value()) << none.error().message;
  const std::string text = everything(*none);
  EXPECT_EQ(text.find("x-sgraph"), std::string::npos) << text;
  EXPECT_EQ(text.find("transfers"), std::string::npos) << text;
  EXPECT_EQ(text.find("418"), std::string::npos) << text;
  for (const auto& c : none->checks) {
    if (c.name == "cors") continue;
    EXPECT_TRUE(c.skipped) << c.name << ": " << text;
  }

  // The same service under the profile: its write endpoint and token header are used (and refused here).
  auto sgraph =
      run_smoke(config_for("profile = \"sgraph-send\"\n[smoke.sgraph_send]\napp_version = \"v0.8.0\"\n"),
                targets, opts);
  ASSERT_TRUE(sgraph.has_value()) << sgraph.error().message;
  const std::string sgraph_text = everything(*sgraph);
  EXPECT_NE(sgraph_text.find("/api/transfers/create (no x-sgraph-access-token)"), std::string::npos)
      << sgraph_text;
}

TEST(SgraphSendProfile, UploadFlowIsTodaysStepsInOrder) {
  config::SmokeBrowserConfig b;
  b.fill = {{"#access-token", "${secret:T}"}};
  b.file_input = "#file";
  b.submit = "#go";
  b.result = "#share-link";
  b.download = "#download-button";
  auto steps = upload_flow_steps(b);
  using A = config::BrowserStep::Action;
  std::vector<std::string> got;
  for (const auto& s : steps)
    got.push_back(std::string(config::browser_action_name(s.action)) + " " + s.selector + s.value +
                  (s.capture.empty() ? "" : " capture=" + s.capture));
  const std::vector<std::string> want = {"wait_for #file",
                                         "fill #access-token${secret:T}",
                                         "upload #file",
                                         "click #go",
                                         "wait_for #share-link capture=href",
                                         "never_sent marker",
                                         "never_sent fragment_key",
                                         "download #download-button"};
  EXPECT_EQ(got, want);
  EXPECT_EQ(steps[0].action, A::kWaitFor);
  b.download.clear();
  EXPECT_EQ(upload_flow_steps(b).size(), want.size() - 1);
}

}  // namespace villager::smoke::sgraph_send
