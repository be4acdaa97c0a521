#include <gtest/gtest.h>

#include <algorithm>

#include "base/strings.h"
#include "config/config.h"

namespace villager::config {

namespace {
const std::string kBase = R"(
[project]
name = "demo"
version_file = "version"

[services.user]
build_dir = "dist/user"
command = ["bin/send-server", "--port", "${PORT}"]

[environments.live]
target = "url"
urls = { user = "https://send.example/" }
)";
}  // namespace

TEST(SmokeChecks, ParsesRequestExpectationsAndCaptures) {
  auto c = parse_config(kBase + R"(
[smoke]
transfers_path = "/v2/transfers"

[[smoke.check]]
name = "create"
service = "user"
method = "post"
path = "/api/transfers/create"
headers = { x-sgraph-access-token = "${secret:TOKEN}" }
body = '{"file_size_bytes": 3}'
retries = 2
retry_interval = "100ms"
capture = { TID = "json:transfer_id", VER = "header:x-service-version" }
[smoke.check.expect]
status = [200, 201]
headers = { x-service-version = "${VERSION}" }
headers_contain = { content-type = "json" }
headers_absent = ["server"]
body_contains = "transfer_id"
body_regex = ['"[0-9a-f]{12}"']
json = { "transfer_id" = "x", "n" = 3, "ok" = true }
json_exists = ["upload_url"]
max_duration = "250ms"

[[smoke.check]]
name = "info"
path = "/api/transfers/info/${TID}"
expect = { status = 200 }
)",
                        "/p/villager.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->smoke.sgraph_send.transfers_path.value_or(""), "/v2/transfers");
  ASSERT_EQ(c->smoke.checks.size(), 2u);
  const auto& k = c->smoke.checks[0];
  EXPECT_EQ(k.method, "POST");
  EXPECT_EQ(k.headers.at(0).first, "x-sgraph-access-token");
  EXPECT_EQ(k.retries, 2);
  EXPECT_EQ(k.retry_interval.count(), 100);
  EXPECT_EQ(k.status, (std::vector<int>{200, 201}));
  EXPECT_EQ(k.headers_equal.at("x-service-version"), "${VERSION}");
  EXPECT_EQ(k.body_contains, (std::vector<std::string>{"transfer_id"}));
  EXPECT_EQ(k.json_equal.at("transfer_id"), "\"x\"");
  EXPECT_EQ(k.json_equal.at("n"), "3");
  EXPECT_EQ(k.json_equal.at("ok"), "true");
  EXPECT_EQ(k.json_exists, (std::vector<std::string>{"upload_url"}));
  ASSERT_TRUE(k.max_duration.has_value());
  EXPECT_EQ(k.max_duration->count(), 250);
  EXPECT_EQ(k.capture.at("TID"), "json:transfer_id");
  EXPECT_EQ(c->smoke.checks[1].status, (std::vector<int>{200}));
  EXPECT_EQ(c->smoke.checks[1].method, "GET");
}

TEST(SmokeChecks, ReportsEveryProblemWithItsLine) {
  auto c = parse_config(kBase + R"(
[[smoke.check]]
name = "a"
service = "usr"
method = "FETCH"
path = "info"
capture = { "bad-name" = "json:x", Y = "cookie:z" }
expect = { status = 700, body_regex = "(", colour = "red" }

[[smoke.check]]
name = "a"
path = "/x"

[[smoke.check]]
name = "health"
)",
                        "/p/villager.toml");
  ASSERT_FALSE(c.has_value());
  const std::string& m = c.error().message;
  for (const char* want :
       {"unknown service 'usr' (did you mean 'user'?)", "method 'FETCH' is not one of",
        "path 'info' must start with '/'", "capture name 'bad-name'", "use \"json:PATH\"",
        "must be between 100 and 599", "bad regular expression '('", "colour", "duplicate smoke check 'a'",
        "'health' is the name of a built-in check", "missing required key 'path'"}) {
    EXPECT_NE(m.find(want), std::string::npos) << "missing: " << want << "\n" << m;
  }
  // Every line is located.
  for (const auto& line : split(m, '\n')) EXPECT_TRUE(starts_with(line, "/p/villager.toml:")) << line;
}

TEST(SmokeChecks, BrowserTableParsesWithDefaults) {
  auto c = parse_config(kBase + R"(
[smoke.browser]
page = "/en-gb/"
fill = { "#access-token" = "${secret:SGRAPH_SEND__ACCESS_TOKEN}" }
result = "#share-link"
timeout = "20s"
)",
                        "/p/villager.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  const auto& b = c->smoke.browser;
  EXPECT_EQ(b.page, "/en-gb/");
  EXPECT_EQ(b.result, "#share-link");
  EXPECT_EQ(b.fill.at("#access-token"), "${secret:SGRAPH_SEND__ACCESS_TOKEN}");
  EXPECT_EQ(b.file_input, "input[type=file]");
  EXPECT_EQ(b.submit, "button[type=submit]");
  EXPECT_EQ(b.timeout, Millis(20000));
  EXPECT_EQ(b.chromium, "chromium");
  // Absent: the check has nothing to drive.
  auto none = parse_config(kBase, "/p/villager.toml");
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->smoke.browser.page.empty());
}

TEST(SmokeChecks, BrowserTableErrorsAreLocated) {
  auto c = parse_config(kBase + R"(
[smoke.browser]
page = "en-gb/"
service = "usr"
submitt = "#go"
)",
                        "/p/villager.toml");
  ASSERT_FALSE(c.has_value());
  const std::string& m = c.error().message;
  EXPECT_NE(m.find("page 'en-gb/' must start with '/'"), std::string::npos) << m;
  EXPECT_NE(m.find("unknown service 'usr' (did you mean 'user'?)"), std::string::npos) << m;
  EXPECT_NE(m.find("submitt"), std::string::npos) << m;
  EXPECT_NE(m.find("result"), std::string::npos) << m;  // required
  EXPECT_NE(m.find("villager.toml:"), std::string::npos) << m;
}

// The line of `text`'s `n`th line (1-based) once appended to kBase.
int line_after_base(int n) {
  return static_cast<int>(std::count(kBase.begin(), kBase.end(), '\n')) + n;
}

TEST(SmokeChecks, ParsesDeclaredBrowserStepsInOrder) {
  auto c = parse_config("profile = \"none\"\n" + kBase + R"(
[smoke.browser]
page = "/upload"

[[smoke.browser.step]]
action = "fill"
selector = "#token"
value = "${secret:TOKEN}"

[[smoke.browser.step]]
action = "upload"
selector = "input[type=file]"

[[smoke.browser.step]]
action = "click"
selector = "#go"

[[smoke.browser.step]]
action = "wait_for"
selector = "a.result"
capture = "href"

[[smoke.browser.step]]
action = "never_sent"
value = "marker"

[[smoke.browser.step]]
action = "download"
selector = "#get"
)",
                        "/p/villager.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->profile, Profile::kNone);
  const auto& steps = c->smoke.browser.steps;
  ASSERT_EQ(steps.size(), 6u);
  using A = BrowserStep::Action;
  EXPECT_EQ(steps[0].action, A::kFill);
  EXPECT_EQ(steps[0].value, "${secret:TOKEN}");
  EXPECT_EQ(steps[1].action, A::kUpload);
  EXPECT_EQ(steps[2].action, A::kClick);
  EXPECT_EQ(steps[3].action, A::kWaitFor);
  EXPECT_EQ(steps[3].capture, "href");
  EXPECT_EQ(steps[4].action, A::kNeverSent);
  EXPECT_EQ(steps[4].value, "marker");
  EXPECT_EQ(steps[5].action, A::kDownload);
  EXPECT_EQ(browser_action_name(A::kWaitFor), "wait_for");
}

TEST(SmokeChecks, BadBrowserActionIsAnErrorAtItsLine) {
  auto c = parse_config(kBase + R"(
[smoke.browser]
page = "/upload"

[[smoke.browser.step]]
action = "click"
selector = "#go"

[[smoke.browser.step]]
action = "wiat_for"
selector = "a"
)",
                        "/p/villager.toml");
  ASSERT_FALSE(c.has_value());
  const std::string& m = c.error().message;
  // The file's line: kBase's, then the text's 10th (`action = "wiat_for"`, its value at column 10).
  const std::string at = "/p/villager.toml:" + std::to_string(line_after_base(10)) + ":10: ";
  EXPECT_NE(m.find(at + "unknown browser action 'wiat_for'"), std::string::npos) << m;
  EXPECT_NE(m.find("did you mean 'wait_for'?"), std::string::npos) << m;
}

TEST(SmokeChecks, BrowserStepKeysFitTheAction) {
  auto c = parse_config("profile = \"none\"\n" + kBase + R"(
[smoke.browser]
page = "/upload"
result = "#link"

[[smoke.browser.step]]
action = "click"

[[smoke.browser.step]]
action = "never_sent"

[[smoke.browser.step]]
action = "click"
selector = "#go"
capture = "href"
)",
                        "/p/villager.toml");
  ASSERT_FALSE(c.has_value());
  const std::string& m = c.error().message;
  EXPECT_NE(m.find("browser action 'click' needs 'selector'"), std::string::npos) << m;
  EXPECT_NE(m.find("browser action 'never_sent' needs 'value'"), std::string::npos) << m;
  EXPECT_NE(m.find("'capture' is for action \"wait_for\""), std::string::npos) << m;
  EXPECT_NE(m.find("[smoke.browser] result describes profile \"sgraph-send\"'s upload flow"),
            std::string::npos)
      << m;
}

TEST(SmokeChecks, BrowserWithoutStepsUnderProfileNoneIsAnError) {
  auto c = parse_config("profile = \"none\"\n" + kBase + R"(
[smoke.browser]
page = "/upload"
)",
                        "/p/villager.toml");
  ASSERT_FALSE(c.has_value());
  EXPECT_NE(c.error().message.find("[smoke.browser] needs [[smoke.browser.step]] entries"), std::string::npos)
      << c.error().message;
}

}  // namespace villager::config
