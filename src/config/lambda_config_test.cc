#include <gtest/gtest.h>

#include "base/strings.h"
#include "config/config.h"

namespace villager::config {
namespace {

const std::string kServices = R"(
[project]
name = "demo"
version_file = "version"

[services.user]
build_dir = "dist/user"
command = ["bin/send-server", "--port", "${PORT}"]

[services.admin]
build_dir = "dist/admin"
command = ["bin/send-server", "--mode", "admin", "--port", "${PORT}"]
)";

Result<Config> parse(const std::string& env) {
  return parse_config(kServices + env, "/tmp/villager.toml");
}

TEST(LambdaConfig, ReadsFunctionsAndDefaults) {
  auto c = parse(R"(
[environments.production]
target = "lambda"
functions = { user = "sgraph_ai_app_send__user-prod", admin = "sgraph_ai_app_send__admin-prod" }
strategy = "Canary10Percent5Minutes"
s3_bucket = "deploy-bucket"
)");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  const auto& e = c->environments[0];
  EXPECT_EQ(e.target, TargetKind::kLambda);
  EXPECT_EQ(e.lambda.functions.at("admin"), "sgraph_ai_app_send__admin-prod");
  EXPECT_EQ(e.lambda.alias, "live");
  EXPECT_EQ(e.lambda.region, "eu-west-2");
  EXPECT_EQ(e.lambda.s3_bucket, "deploy-bucket");
  EXPECT_EQ(e.lambda.storage_bucket, "");
  EXPECT_EQ(e.lambda.storage_prefix, "transfers/");
  EXPECT_EQ(e.strategy, Strategy::kCanary);
  EXPECT_EQ(e.steps, (std::vector<int>{10, 100}));
  EXPECT_EQ(e.step_interval, Millis(5 * 60 * 1000));
}

TEST(LambdaConfig, LinearAndAllAtOncePresets) {
  auto c = parse(R"(
[environments.a]
target = "lambda"
functions = { user = "f1" }
strategy = "Linear10PercentEvery1Minute"
[environments.b]
target = "lambda"
functions = { user = "f2" }
strategy = "AllAtOnce"
alias = "prod"
region = "us-east-1"
endpoint = "http://127.0.0.1:5000/"
)");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->environments[0].steps.size(), 10u);
  EXPECT_EQ(c->environments[0].step_interval, Millis(60000));
  EXPECT_EQ(c->environments[1].strategy, Strategy::kAllAtOnce);
  EXPECT_EQ(c->environments[1].lambda.endpoint, "http://127.0.0.1:5000");
  EXPECT_EQ(c->environments[1].lambda.alias, "prod");
}

TEST(LambdaConfig, RejectsMistakesWithPositions) {
  auto c = parse(R"(
[environments.bad]
target = "lambda"
functions = { usr = "has space" }
alias = "123"
region = "moon"
strategy = "Linear10PercentEvery1Minutes"
)");
  ASSERT_FALSE(c.has_value());
  const auto& m = c.error().message;
  EXPECT_NE(m.find("names service 'usr', which is not defined (did you mean 'user'?)"), std::string::npos)
      << m;
  EXPECT_NE(m.find("function name for 'usr'"), std::string::npos) << m;
  EXPECT_NE(m.find("alias must be"), std::string::npos) << m;
  EXPECT_NE(m.find("region must look like"), std::string::npos) << m;
  EXPECT_NE(m.find("unknown strategy 'Linear10PercentEvery1Minutes'"), std::string::npos) << m;
  EXPECT_NE(m.find("/tmp/villager.toml:"), std::string::npos) << m;
}

TEST(LambdaConfig, ReadsAndChecksTheTransfersStorage) {
  auto ok = parse(R"(
[environments.prod]
target = "lambda"
functions = { user = "fn-user" }
storage_bucket = "sgraph-send-transfers"
storage_prefix = "prod/transfers/"
)");
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  EXPECT_EQ(ok->environments[0].lambda.storage_bucket, "sgraph-send-transfers");
  EXPECT_EQ(ok->environments[0].lambda.storage_prefix, "prod/transfers/");
  auto bad = parse(R"(
[environments.prod]
target = "lambda"
functions = { user = "fn-user" }
storage_bucket = "Bad_Bucket"
storage_prefix = "/transfers/"
)");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("storage_bucket must be an S3 bucket name"), std::string::npos)
      << bad.error().message;
  EXPECT_NE(bad.error().message.find("storage_prefix is an S3 key prefix"), std::string::npos)
      << bad.error().message;
  auto local = parse(R"(
[environments.dev]
target = "local"
listen = { user = "127.0.0.1:8080" }
storage_bucket = "sgraph-send-transfers"
)");
  ASSERT_FALSE(local.has_value());
  EXPECT_NE(local.error().message.find("'storage_bucket' is only for target \"lambda\""), std::string::npos)
      << local.error().message;
}

TEST(LambdaConfig, LambdaKeysOnOtherTargetsAndMissingFunctions) {
  auto c = parse(R"(
[environments.local]
target = "local"
listen = { user = "127.0.0.1:8080" }
functions = { user = "f" }
[environments.lam]
target = "lambda"
)");
  ASSERT_FALSE(c.has_value());
  const auto& m = c.error().message;
  EXPECT_NE(m.find("'functions' is only for target \"lambda\""), std::string::npos) << m;
  EXPECT_NE(m.find("has target \"lambda\" but no 'functions'"), std::string::npos) << m;
}

TEST(LambdaConfig, PresetWithExplicitStepsIsAnError) {
  auto c = parse(R"(
[environments.p]
target = "lambda"
functions = { user = "f" }
strategy = "Canary10Percent5Minutes"
steps = [10, 100]
)");
  ASSERT_FALSE(c.has_value());
  EXPECT_NE(c.error().message.find("sets the steps and their interval itself"), std::string::npos);
}

}  // namespace
}  // namespace villager::config
