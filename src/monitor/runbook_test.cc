#include "monitor/runbook.h"

#include <gtest/gtest.h>

namespace villager::monitor {
namespace {

constexpr const char* kToml = R"(
[project]
name = "sgraph-send"
version_file = "version"

[services.user]
build_dir = "dist/user"
command = ["bin/send-server", "--port", "${PORT}"]

[environments.production]
target = "local"
listen = { user = "127.0.0.1:9080" }
strategy = "canary"
steps = [10, 50, 100]
step_interval = "30s"
watch = "30m"

[[monitor.alarm]]
name = "5xx"
metric = "error_rate"
above = 0.01
window = "1m"
severity = "critical"

[[monitor.alarm]]
name = "slow"
metric = "p99"
above = 250
window = "30s"
consecutive = 3
severity = "warning"

[[alert]]
type = "webhook"
url = "https://hooks.slack.example/services/T000/B000/SECRETTOKEN"
)";

TEST(Runbook, ListsAlarmsChannelsAndRollback) {
  auto cfg = config::parse_config(kToml, "/tmp/villager.toml");
  ASSERT_TRUE(cfg) << cfg.error().message;
  auto md = write_runbook(*cfg, "production", {3, 420, 900});
  ASSERT_TRUE(md) << md.error().message;
  EXPECT_NE(md->find("# Runbook: sgraph-send / production"), std::string::npos);
  EXPECT_NE(
      md->find("| 5xx | critical | all | the share of requests answered 5xx is above 1% over the last 1m |"),
      std::string::npos)
      << *md;
  EXPECT_NE(md->find("p99 edge latency is above 250 ms over the last 30s, in 3 evaluations in a row"),
            std::string::npos);
  EXPECT_NE(md->find("villager rollback production"), std::string::npos);
  EXPECT_NE(md->find("median 420 ms, slowest 900 ms"), std::string::npos);
  EXPECT_NE(md->find("canary, steps 10% 50% 100%"), std::string::npos);
  EXPECT_NE(md->find("webhook to https://hooks.slack.example"), std::string::npos);
  EXPECT_EQ(md->find("SECRETTOKEN"), std::string::npos);  // a hook's path is its secret
}

TEST(Runbook, UnknownEnvironmentIsNotFound) {
  auto cfg = config::parse_config(kToml, "/tmp/villager.toml");
  ASSERT_TRUE(cfg);
  auto md = write_runbook(*cfg, "staging");
  ASSERT_FALSE(md);
  EXPECT_EQ(md.error().code, Code::kNotFound);
}

}  // namespace
}  // namespace villager::monitor
