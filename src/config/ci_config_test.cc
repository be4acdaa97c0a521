#include <gtest/gtest.h>

#include "config/config.h"

namespace villager::config {
namespace {

const std::string kBase = R"(
[project]
name = "demo"
version_file = "version"

[services.user]
build_dir = "dist/user"
command = ["bin/send-server"]

[environments.explorer]
listen = { user = "127.0.0.1:8080" }

[environments.production]
target = "lambda"
functions = { user = "user-prod" }

[environments.live]
target = "url"
urls = { user = "https://send.example" }
)";

Result<Config> parse(const std::string& extra) {
  return parse_config(kBase + extra, "/tmp/villager.toml");
}

bool has(const Result<Config>& c, const std::string& text) {
  return !c && c.error().message.find(text) != std::string::npos;
}

TEST(CiConfig, DefaultsWithoutASection) {
  auto c = parse("");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->ci.dev_branch, "dev");
  EXPECT_EQ(c->ci.release_tags, std::vector<std::string>{"v*"});
  EXPECT_EQ(c->ci.runs_on, "ubuntu-latest");
  EXPECT_EQ(c->ci.deploy_runs_on, "self-hosted");
  EXPECT_TRUE(c->ci.dev_environment.empty());
}

TEST(CiConfig, EveryKeyIsRead) {
  auto c = parse(R"(
[ci]
dev_branch = "main"
release_tags = ["release-*"]
dev_environment = "explorer"
production_environment = "production"
runs_on = "ubuntu-24.04"
deploy_runs_on = "deployer"
setup = ["make install"]
test = ["make test"]
build = ["make dist"]
aws_role = { production = "arn:aws:iam::1:role/d" }
)");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->ci.dev_branch, "main");
  EXPECT_EQ(c->ci.release_tags, std::vector<std::string>{"release-*"});
  EXPECT_EQ(c->ci.production_environment, "production");
  EXPECT_EQ(c->ci.deploy_runs_on, "deployer");
  EXPECT_EQ(c->ci.build, std::vector<std::string>{"make dist"});
  EXPECT_EQ(c->ci.aws_role.at("production"), "arn:aws:iam::1:role/d");
}

TEST(CiConfig, UnknownKeyGetsASuggestion) {
  auto c = parse("[ci]\ndev_brnch = \"dev\"\n");
  EXPECT_TRUE(has(c, "dev_branch")) << (c ? "" : c.error().message);
}

TEST(CiConfig, UnknownEnvironmentIsLocatedWithASuggestion) {
  auto c = parse("[ci]\ndev_environment = \"explorr\"\n");
  EXPECT_TRUE(has(c, "villager.toml:21:")) << (c ? "" : c.error().message);
  EXPECT_TRUE(has(c, "did you mean 'explorer'")) << (c ? "" : c.error().message);
}

TEST(CiConfig, AUrlEnvironmentCannotBeDeployedFromCi) {
  auto c = parse("[ci]\nproduction_environment = \"live\"\n");
  EXPECT_TRUE(has(c, "which villager cannot deploy to")) << (c ? "" : c.error().message);
}

TEST(CiConfig, DevAndProductionMustDiffer) {
  auto c = parse("[ci]\ndev_environment = \"explorer\"\nproduction_environment = \"explorer\"\n");
  EXPECT_TRUE(has(c, "must differ")) << (c ? "" : c.error().message);
}

TEST(CiConfig, AwsRoleOnlyForLambdaEnvironments) {
  auto c = parse("[ci]\naws_role = { explorer = \"arn:aws:iam::1:role/d\" }\n");
  EXPECT_TRUE(has(c, "'explorer' is not a lambda environment")) << (c ? "" : c.error().message);
}

TEST(CiConfig, EmptyValuesAreRefused) {
  auto c = parse("[ci]\ndev_branch = \"\"\nrelease_tags = []\n");
  EXPECT_TRUE(has(c, "dev_branch must not be empty")) << (c ? "" : c.error().message);
  EXPECT_TRUE(has(c, "release_tags must name at least one")) << (c ? "" : c.error().message);
}

}  // namespace
}  // namespace villager::config
