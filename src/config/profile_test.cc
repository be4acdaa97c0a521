#include <gtest/gtest.h>

#include "base/strings.h"
#include "config/config.h"

namespace villager::config {
namespace {

const std::string kProject = R"(
[project]
name = "demo"
version_file = "version"
)";

const std::string kPlainService = R"(
[services.web]
build_dir = "dist"
command = ["bin/web", "--port", "${PORT}"]

[environments.dev]
listen = { web = "127.0.0.1:8080" }
)";

const std::string kTransfersService = R"(
[services.user]
build_dir = "dist"
command = ["bin/send-server", "--port", "${PORT}"]
secrets = ["SGRAPH_SEND__ACCESS_TOKEN"]

[environments.dev]
listen = { user = "127.0.0.1:8080" }
)";

Result<Config> parse(const std::string& top, const std::string& rest) {
  return parse_config(top + kProject + rest, "/p/villager.toml");
}

std::string all(const std::vector<std::string>& lines) {
  return join(lines, "\n");
}

TEST(Profile, ParsedOnceIntoTheEnum) {
  auto c = parse("profile = \"sgraph-send\"\n", kPlainService);
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->profile, Profile::kSgraphSend);
  EXPECT_EQ(c->smoke.sgraph_send.access_token_header, "x-sgraph-access-token");
  EXPECT_EQ(c->smoke.sgraph_send.access_token_secret, "SGRAPH_SEND__ACCESS_TOKEN");
  EXPECT_EQ(c->smoke.sgraph_send.preset, "sgraph-send");
  EXPECT_TRUE(c->deprecations.empty()) << all(c->deprecations);
  EXPECT_EQ(profile_name(Profile::kNone), "none");
  EXPECT_EQ(parse_profile("sgraph-send"), Profile::kSgraphSend);
  EXPECT_FALSE(parse_profile("sgraph").has_value());
}

TEST(Profile, UnknownNameIsLocatedWithASuggestion) {
  auto c = parse("\nprofile = \"sgraph-sned\"\n", kPlainService);
  ASSERT_FALSE(c.has_value());
  EXPECT_TRUE(starts_with(c.error().message, "/p/villager.toml:2:")) << c.error().message;
  EXPECT_NE(c.error().message.find("unknown profile 'sgraph-sned'"), std::string::npos) << c.error().message;
  EXPECT_NE(c.error().message.find("did you mean 'sgraph-send'?"), std::string::npos) << c.error().message;
}

TEST(Profile, AbsentAndNothingSgraphIsNone) {
  auto c = parse("", kPlainService);
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->profile, Profile::kNone);
  EXPECT_TRUE(c->deprecations.empty()) << all(c->deprecations);
}

TEST(Profile, ProfileNoneUsesNoSgraphHeaderOrPath) {
  auto c = parse("profile = \"none\"\n",
                 kTransfersService + "\n[smoke]\ncors_allowed_origins = [\"https://a.example\"]\n");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->profile, Profile::kNone);
  const SgraphSendConfig& s = c->smoke.sgraph_send;
  EXPECT_EQ(s.access_token_header, "");
  EXPECT_EQ(s.access_token_secret, "");
  EXPECT_FALSE(s.write_path.has_value());
  EXPECT_FALSE(s.transfers_path.has_value());
  EXPECT_TRUE(s.meta_fields.empty());
}

TEST(Profile, InferredFromTheAccessTokenSecretWithADeprecationNote) {
  auto c = parse("", kTransfersService);
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->profile, Profile::kSgraphSend);
  ASSERT_EQ(c->deprecations.size(), 1u) << all(c->deprecations);
  EXPECT_TRUE(starts_with(c->deprecations[0], "/p/villager.toml:")) << c->deprecations[0];
  EXPECT_NE(c->deprecations[0].find("SGRAPH_SEND__ACCESS_TOKEN"), std::string::npos) << c->deprecations[0];
  EXPECT_NE(c->deprecations[0].find("add profile = \"sgraph-send\""), std::string::npos)
      << c->deprecations[0];
  EXPECT_TRUE(c->warnings.empty()) << all(c->warnings);
}

TEST(Profile, InferredFromDeprecatedSmokeKeysWhichStillWork) {
  auto c = parse("", kPlainService + R"(
[smoke]
preset = "none"
write_path = "/w"
transfers_path = "/t"
access_token_header = "x-token"
)");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->profile, Profile::kSgraphSend);
  EXPECT_EQ(c->smoke.sgraph_send.preset, "none");
  EXPECT_EQ(c->smoke.sgraph_send.write_path.value_or(""), "/w");
  EXPECT_EQ(c->smoke.sgraph_send.access_token_header, "x-token");
  std::string notes = all(c->deprecations);
  EXPECT_NE(notes.find("[smoke] sets 'access_token_header'"), std::string::npos) << notes;
  EXPECT_NE(notes.find("[smoke] write_path is deprecated: move it to [smoke.sgraph_send]"), std::string::npos)
      << notes;
}

TEST(Profile, SgraphSendSectionCarriesTheProfilesKeys) {
  auto c = parse("profile = \"sgraph-send\"\n", kTransfersService + R"(
[smoke.sgraph_send]
access_token_secret = "OTHER_TOKEN"
app_version = "v0.3.5"
meta_fields = ["transfer_id"]
)");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->smoke.sgraph_send.access_token_secret, "OTHER_TOKEN");
  EXPECT_EQ(c->smoke.sgraph_send.access_token_header, "x-sgraph-access-token");
  EXPECT_EQ(c->smoke.sgraph_send.app_version, "v0.3.5");
  EXPECT_EQ(c->smoke.sgraph_send.meta_fields, std::vector<std::string>{"transfer_id"});
  EXPECT_TRUE(c->deprecations.empty()) << all(c->deprecations);
}

TEST(Profile, SgraphKeysUnderProfileNoneAreLocatedErrors) {
  auto c = parse("profile = \"none\"\n", kPlainService + R"(
[smoke]
transfers_path = "/t"

[smoke.sgraph_send]
preset = "sgraph-send"
)");
  ASSERT_FALSE(c.has_value());
  const std::string& m = c.error().message;
  EXPECT_NE(m.find("/p/villager.toml:15:18: [smoke] transfers_path belongs to profile \"sgraph-send\""),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("[smoke.sgraph_send] belongs to profile \"sgraph-send\""), std::string::npos) << m;
}

TEST(Profile, BadPresetInTheSectionIsLocated) {
  auto c = parse("profile = \"sgraph-send\"\n", kPlainService + R"(
[smoke.sgraph_send]
preset = "sgraph"
)");
  ASSERT_FALSE(c.has_value());
  EXPECT_NE(c.error().message.find(":15:10: unknown preset 'sgraph'"), std::string::npos)
      << c.error().message;
}

TEST(Profile, LambdaStoragePrefixComesFromTheProfile) {
  const std::string lambda = R"(
[services.user]
build_dir = "dist"
secrets = ["SGRAPH_SEND__ACCESS_TOKEN"]

[environments.prod]
target = "lambda"
functions = { user = "f" }
)";
  auto sgraph = parse("profile = \"sgraph-send\"\n", lambda);
  ASSERT_TRUE(sgraph.has_value()) << sgraph.error().message;
  EXPECT_EQ(sgraph->environments[0].lambda.storage_prefix, "transfers/");
  auto none = parse("profile = \"none\"\n", lambda);
  ASSERT_TRUE(none.has_value()) << none.error().message;
  EXPECT_EQ(none->environments[0].lambda.storage_prefix, "");
}

}  // namespace
}  // namespace villager::config
