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

// profile "sgraph-send" brings storage_prefix = "transfers/" (ProfileNoneKeepsTheWholeBucket: without it).
TEST(LambdaConfig, ReadsFunctionsAndDefaults) {
  auto c = parse_config("profile = \"sgraph-send\"\n" + kServices + R"(
[environments.production]
target = "lambda"
functions = { user = "sgraph_ai_app_send__user-prod", admin = "sgraph_ai_app_send__admin-prod" }
strategy = "Canary10Percent5Minutes"
s3_bucket = "deploy-bucket"
)",
                        "/tmp/villager.toml");
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

TEST(LambdaConfig, ProfileNoneKeepsTheWholeBucket) {
  auto c = parse(R"(
[environments.production]
target = "lambda"
functions = { user = "f1" }
storage_bucket = "data"
)");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->profile, Profile::kNone);
  EXPECT_EQ(c->environments[0].lambda.storage_prefix, "");
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
  EXPECT_NE(c.error().message.find("sets the steps itself"), std::string::npos);
}

TEST(LambdaConfig, PresetIntervalCanBeShortened) {
  auto c = parse(R"(
[environments.p]
target = "lambda"
functions = { user = "f" }
strategy = "Canary10Percent5Minutes"
step_interval = "300ms"
)");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->environments[0].steps, (std::vector<int>{10, 100}));
  EXPECT_EQ(c->environments[0].step_interval, Millis(300));
}

TEST(LambdaConfig, ReadsFunctionSettings) {
  auto c = parse(R"(
[environments.prod]
target = "lambda"
functions = { user = "fu", admin = "fa" }
handlers = { user = "sgraph_ai_app_send.lambda__user.lambda_function.lambda_handler__user.run" }
runtime = "python3.12"
architecture = "arm64"
memory = 512
timeout = "30s"
layers = ["arn:aws:lambda:eu-west-2:123456789012:layer:deps:3"]
provisioned_concurrency = 2
cors_origins = ["https://send.sgraph.ai"]
cors_allow_credentials = true
pre_traffic_hook = "send-pre-traffic"
post_traffic_hook = "send-post-traffic"
)");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  const auto& l = c->environments[0].lambda;
  EXPECT_EQ(l.handlers.at("user"),
            "sgraph_ai_app_send.lambda__user.lambda_function.lambda_handler__user.run");
  EXPECT_EQ(l.handlers.count("admin"), 0u);
  EXPECT_EQ(l.runtime, "python3.12");
  EXPECT_EQ(l.architecture, "arm64");
  EXPECT_EQ(l.memory_mb, 512);
  EXPECT_EQ(l.timeout, Millis(30000));
  ASSERT_TRUE(l.layers.has_value());
  EXPECT_EQ(l.layers->size(), 1u);
  EXPECT_EQ(l.provisioned_concurrency, 2);
  EXPECT_TRUE(l.cors_allow_credentials);
  EXPECT_EQ(l.pre_traffic_hook, "send-pre-traffic");
  EXPECT_EQ(l.post_traffic_hook, "send-post-traffic");
}

TEST(LambdaConfig, UnsetFunctionSettingsLeaveTheFunctionAlone) {
  auto c = parse(R"(
[environments.prod]
target = "lambda"
functions = { user = "fu" }
)");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  const auto& l = c->environments[0].lambda;
  EXPECT_TRUE(l.runtime.empty());
  EXPECT_EQ(l.memory_mb, 0);
  EXPECT_EQ(l.timeout, Millis(0));
  EXPECT_FALSE(l.layers.has_value());
  EXPECT_EQ(l.provisioned_concurrency, -1);
}

// Each mistake is reported at its line, all in one pass.
TEST(LambdaConfig, FunctionSettingMistakesAreLocated) {
  auto c = parse(R"(
[environments.prod]
target = "lambda"
functions = { user = "fu" }
handlers = { user = "no_function_part" }
runtime = "python2.7"
architecture = "aarch64"
memory = 64
timeout = "1500ms"
layers = ["a", "arn:aws:lambda:eu-west-2:123456789012:layer:x:1", "arn:aws:lambda:eu-west-2:123456789012:layer:x:2", "arn:aws:lambda:eu-west-2:123456789012:layer:x:3", "arn:aws:lambda:eu-west-2:123456789012:layer:x:4", "arn:aws:lambda:eu-west-2:123456789012:layer:x:5"]
cors_origins = ["*"]
cors_allow_credentials = true
pre_traffic_hook = "not a name"
)");
  ASSERT_FALSE(c.has_value());
  const auto& m = c.error().message;
  for (const char* want :
       {":17:", "handler for 'user' must be MODULE.FUNCTION", ":18:", "unknown Lambda runtime 'python2.7'",
        ":19:", "architecture must be", ":20:", "memory", ":21:", "timeout must be whole seconds",
        ":22:", "at most 5 layers", "a layer is its version ARN",
        ":23:", "with cors_allow_credentials = true would let every website",
        ":25:", "pre_traffic_hook is a Lambda function name"})
    EXPECT_NE(m.find(want), std::string::npos) << want << "\n" << m;
}

}  // namespace
}  // namespace villager::config
