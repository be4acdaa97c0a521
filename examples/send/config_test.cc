#include "config.h"

#include <gtest/gtest.h>

namespace send_server {
namespace {

TEST(ParseFaults, EmptyMeansNone) {
  auto f = parse_faults("");
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->describe(), "");
}

TEST(ParseFaults, ReadsEveryFaultAndArgument) {
  auto f = parse_faults(
      "open-admin, cors-any,log-secrets,raw-ip,no-health,errors:0.25,latency:150,crash-after:7,missing-asset,"
      "slow-start:900,frontend-no-encrypt,frontend-leak-key");
  ASSERT_TRUE(f.has_value()) << f.error().message;
  EXPECT_TRUE(f->open_admin && f->cors_any && f->log_secrets && f->raw_ip && f->no_health);
  EXPECT_DOUBLE_EQ(f->error_rate, 0.25);
  EXPECT_EQ(f->latency.count(), 150);
  EXPECT_EQ(f->crash_after, 7u);
  EXPECT_TRUE(f->missing_asset && f->frontend_no_encrypt && f->frontend_leak_key);
  EXPECT_EQ(f->slow_start.count(), 900);
}

TEST(ParseFaults, CollectsEveryErrorWithSuggestions) {
  auto f = parse_faults("no-heath,latency,errors:1.5,raw-ip:3,crash-after:0");
  ASSERT_FALSE(f.has_value());
  const std::string& m = f.error().message;
  EXPECT_NE(m.find("unknown fault 'no-heath' (did you mean 'no-health'?)"), std::string::npos) << m;
  EXPECT_NE(m.find("'latency' needs an argument"), std::string::npos) << m;
  EXPECT_NE(m.find("errors: expected a fraction"), std::string::npos) << m;
  EXPECT_NE(m.find("'raw-ip' takes no argument"), std::string::npos) << m;
  EXPECT_NE(m.find("crash-after: 0 is out of range"), std::string::npos) << m;
}

TEST(ParseConfig, EnvironmentAndFlags) {
  std::map<std::string, std::string> env = {{"FAST_API__AUTH__API_KEY__NAME", " X-Api-Key "},
                                            {"FAST_API__AUTH__API_KEY__VALUE", "k"},
                                            {"SEND_CORS_ORIGINS", "https://a.example, ,https://b.example"},
                                            {"VILLAGER_RELEASE_VERSION", "v3.2.1"}};
  auto p = parse_config({"--mode", "admin", "--port=8081", "--data", "/tmp/x"}, env, "/nonexistent");
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(p->config.mode, Mode::kAdmin);
  EXPECT_EQ(p->config.port, 8081);
  EXPECT_EQ(p->config.api_key_name, "x-api-key");
  EXPECT_EQ(p->config.version, "v3.2.1");
  EXPECT_EQ(p->config.cors_origins, (std::vector<std::string>{"https://a.example", "https://b.example"}));
  EXPECT_TRUE(p->config.access_token.empty());
}

TEST(ParseConfig, UsageErrors) {
  EXPECT_FALSE(parse_config({"--data", "/tmp/x"}, {}, "/").has_value());  // no port
  EXPECT_FALSE(parse_config({"--port", "1"}, {}, "/").has_value());       // no data
  EXPECT_FALSE(parse_config({"--port", "70000", "--data", "d"}, {}, "/").has_value());
  auto p = parse_config({"--prot", "1"}, {}, "/");
  ASSERT_FALSE(p.has_value());
  EXPECT_NE(p.error().message.find("did you mean '--port'"), std::string::npos) << p.error().message;
}

}  // namespace
}  // namespace send_server
