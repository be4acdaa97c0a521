#include <gtest/gtest.h>

#include "config/config.h"

namespace villager::config {
namespace {

const std::string kBase = R"([project]
name = "x"
version_file = "v"

[services.user]
build_dir = "dist/user"
command = ["bin/s"]

[environments.production]
target = "local"
listen = { user = "127.0.0.1:9080" }
)";

TEST(NotifyConfig, ParsesChannelsWithDefaults) {
  auto c = parse_config(kBase + R"(
[[notify]]
type = "webhook"
url = "http://127.0.0.1:9099/hook"

[[notify]]
type = "file"
path = "events.jsonl"
events = ["rolled_back", "rollback_failed"]
environments = ["production"]
timeout = "2s"
)",
                        "/p/villager.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  ASSERT_EQ(c->notify.size(), 2u);
  EXPECT_EQ(c->notify[0].type, ChannelType::kWebhook);
  EXPECT_TRUE(c->notify[0].events.empty());
  EXPECT_EQ(c->notify[0].timeout, Millis(5000));
  EXPECT_EQ(c->notify[1].path, "/p/events.jsonl");
  EXPECT_EQ(c->notify[1].events, (std::vector<std::string>{"rolled_back", "rollback_failed"}));
  EXPECT_EQ(c->notify[1].timeout, Millis(2000));
}

TEST(NotifyConfig, RejectsUnknownEventsTypesEnvironmentsAndMissingFields) {
  auto c = parse_config(kBase + R"(
[[notify]]
type = "webhook"
events = ["rolled_bak"]
environments = ["staging"]

[[notify]]
type = "pager"
)",
                        "/p/villager.toml");
  ASSERT_FALSE(c.has_value());
  const std::string& m = c.error().message;
  EXPECT_NE(m.find("needs 'url'"), std::string::npos) << m;
  EXPECT_NE(m.find("did you mean 'rolled_back'"), std::string::npos) << m;
  EXPECT_NE(m.find("no environment 'staging'"), std::string::npos) << m;
  EXPECT_NE(m.find("unknown notify type 'pager'"), std::string::npos) << m;
}

TEST(NotifyConfig, DeprecatedAlertEntriesBecomeAlertChannelsWithAWarning) {
  auto c = parse_config(kBase + R"(
[[notify]]
type = "alertmanager"
url = "http://127.0.0.1:9093"

[[alert]]
type = "file"
path = "alerts.jsonl"
)",
                        "/p/villager.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  ASSERT_EQ(c->notify.size(), 2u);
  EXPECT_EQ(c->notify[0].events, std::vector<std::string>{"alert"});  // alertmanager's default
  EXPECT_TRUE(c->notify[0].takes_alerts());
  EXPECT_FALSE(c->notify[0].takes_pipeline_events());
  EXPECT_EQ(c->notify[1].type, ChannelType::kFile);
  EXPECT_EQ(c->notify[1].path, "/p/alerts.jsonl");
  EXPECT_TRUE(c->notify[1].takes_alerts());
  EXPECT_FALSE(c->notify[1].takes_pipeline_events());
  ASSERT_EQ(c->warnings.size(), 1u);
  EXPECT_NE(c->warnings[0].find("/p/villager.toml:17:1:"), std::string::npos) << c->warnings[0];
  EXPECT_NE(c->warnings[0].find("[[alert]] is deprecated"), std::string::npos) << c->warnings[0];
}

TEST(NotifyConfig, AlertmanagerTakesAlertsOnlyAndAlertEntriesKeepTheirKeys) {
  auto c = parse_config(kBase + R"(
[[notify]]
type = "alertmanager"
url = "http://127.0.0.1:9093"
events = ["alert", "deployed"]

[[alert]]
type = "webhook"
url = "http://127.0.0.1:9/hook"
events = ["alert"]
)",
                        "/p/villager.toml");
  ASSERT_FALSE(c.has_value());
  const std::string& m = c.error().message;
  EXPECT_NE(m.find("carries alerts only"), std::string::npos) << m;
  EXPECT_NE(m.find("unknown key 'events' in [[alert]]"), std::string::npos) << m;
}

TEST(NotifyConfig, ANotifyChannelMayTakeAlertsAndEvents) {
  auto c = parse_config(kBase + R"(
[[notify]]
type = "webhook"
url = "http://127.0.0.1:9099/hook"
events = ["alert", "rolled_back"]
)",
                        "/p/villager.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_TRUE(c->notify[0].takes_alerts());
  EXPECT_TRUE(c->notify[0].takes_pipeline_events());
  EXPECT_TRUE(c->warnings.empty());
}

}  // namespace
}  // namespace villager::config
