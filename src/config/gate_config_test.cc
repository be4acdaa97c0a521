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
)";

const std::string kKey = "ed25519:11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";

Result<Config> parse(const std::string& extra) {
  return parse_config(kBase + extra, "/tmp/villager.toml");
}

TEST(GateConfig, OverrideRoleDefaultsToConductor) {
  auto c = parse("");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->gate.override_role, "conductor");
}

TEST(GateConfig, OverrideRoleIsConfigurable) {
  auto c = parse("[gate]\noverride_role = \"oncall\"\n");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->gate.override_role, "oncall");
}

TEST(GateConfig, UnknownGateKeyIsAnErrorWithSuggestion) {
  auto c = parse("[gate]\noverride_rol = \"oncall\"\n");
  ASSERT_FALSE(c.has_value());
  EXPECT_NE(c.error().message.find("override_role"), std::string::npos) << c.error().message;
  EXPECT_NE(c.error().message.find("villager.toml:"), std::string::npos) << c.error().message;
}

TEST(GateConfig, BadOverrideRoleIsAnError) {
  auto c = parse("[gate]\noverride_role = \"on call\"\n");
  ASSERT_FALSE(c.has_value());
  EXPECT_NE(c.error().message.find("override_role"), std::string::npos);
}

TEST(GateConfig, SignerKeyMustBe32BytesOfBase64) {
  EXPECT_TRUE(
      parse("[[signer]]\nrole = \"qa\"\nname = \"qa-lead\"\npublic_key = \"" + kKey + "\"\n").has_value());
  auto c = parse("[[signer]]\nrole = \"qa\"\nname = \"qa-lead\"\npublic_key = \"ed25519:AAAA\"\n");
  ASSERT_FALSE(c.has_value());
  EXPECT_NE(c.error().message.find("not 32 bytes"), std::string::npos) << c.error().message;
}

TEST(GateConfig, SameKeyTwiceForOneRoleIsAnError) {
  std::string s = "[[signer]]\nrole = \"qa\"\nname = \"a\"\npublic_key = \"" + kKey + "\"\n";
  auto c = parse(s + s);
  ASSERT_FALSE(c.has_value());
  EXPECT_NE(c.error().message.find("already trusted for role 'qa'"), std::string::npos) << c.error().message;
}

TEST(GateConfig, GatedEnvironmentSharingAListenAddressIsRejected) {
  auto c = parse("[environments.production]\nlisten = { user = \"127.0.0.1:8080\" }\nrequires = [\"qa\"]\n");
  ASSERT_FALSE(c.has_value());
  EXPECT_NE(c.error().message.find("127.0.0.1:8080 of production.user is already used by explorer.user"),
            std::string::npos)
      << c.error().message;
}

TEST(GateConfig, GatedEnvironmentSharingAUrlIsRejected) {
  std::string text = R"(
[environments.staging]
target = "url"
urls = { user = "https://send.example" }
[environments.production]
target = "url"
urls = { user = "https://send.example" }
requires = ["qa"]
)";
  auto c = parse(text);
  ASSERT_FALSE(c.has_value());
  EXPECT_NE(c.error().message.find("gated environments must be kept apart"), std::string::npos)
      << c.error().message;
  // Two ungated environments may point at the same deployment (smoke and load only).
  std::string ungated = text.substr(0, text.rfind("requires"));
  EXPECT_TRUE(parse(ungated).has_value());
}

}  // namespace
}  // namespace villager::config
