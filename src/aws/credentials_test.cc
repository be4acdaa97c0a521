#include "aws/credentials.h"

#include <gtest/gtest.h>

#include <map>

#include "base/fs.h"
#include "testutil/temp_dir.h"

namespace villager::aws {
namespace {

CredentialSources from(std::map<std::string, std::string> env) {
  CredentialSources s;
  s.getenv = [env](const std::string& name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  return s;
}

TEST(Credentials, EnvironmentWinsAndCarriesSessionToken) {
  auto c = load_credentials(from({{"AWS_ACCESS_KEY_ID", "AKIAENV"},
                                  {"AWS_SECRET_ACCESS_KEY", "envsecret123"},
                                  {"AWS_SESSION_TOKEN", "envtoken123"},
                                  {"HOME", "/nonexistent"}}));
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->access_key_id, "AKIAENV");
  EXPECT_EQ(c->secret_access_key.reveal(), "envsecret123");
  EXPECT_EQ(c->session_token.reveal(), "envtoken123");
  EXPECT_EQ(c->source, "environment");
  EXPECT_EQ(redact("x envsecret123 envtoken123"), "x *** ***");
}

TEST(Credentials, HalfAnEnvironmentPairIsAnError) {
  auto c = load_credentials(from({{"AWS_ACCESS_KEY_ID", "AKIAENV"}}));
  ASSERT_FALSE(c.has_value());
  EXPECT_NE(c.error().message.find("AWS_SECRET_ACCESS_KEY"), std::string::npos);
}

TEST(Credentials, SharedFileProfileFromAwsProfile) {
  TempDir dir;
  auto file = dir.path() / "credentials";
  ASSERT_TRUE(
      write_file_atomic(file,
                        "[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key = defsecret1\n\n"
                        "# comment\n[deployer]\naws_access_key_id=AKIADEPLOY\n"
                        "aws_secret_access_key= depsecret1 \naws_session_token = deptoken1\n")
          .ok());
  auto c =
      load_credentials(from({{"AWS_SHARED_CREDENTIALS_FILE", file.string()}, {"AWS_PROFILE", "deployer"}}));
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->access_key_id, "AKIADEPLOY");
  EXPECT_EQ(c->secret_access_key.reveal(), "depsecret1");
  EXPECT_EQ(c->session_token.reveal(), "deptoken1");
  auto d = load_credentials(from({{"AWS_SHARED_CREDENTIALS_FILE", file.string()}}));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->access_key_id, "AKIADEFAULT");
  EXPECT_TRUE(d->session_token.empty());
}

TEST(Credentials, HomeCredentialsFileIsTheDefault) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / ".aws");
  ASSERT_TRUE(
      write_file_atomic(dir.path() / ".aws" / "credentials",
                        "[default]\naws_access_key_id = AKIAHOME\naws_secret_access_key = homesecret\n")
          .ok());
  auto c = load_credentials(from({{"HOME", dir.path().string()}}));
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->access_key_id, "AKIAHOME");
}

TEST(Credentials, MissingProfileNamesIt) {
  auto c =
      parse_credentials_file("[default]\naws_access_key_id=a\naws_secret_access_key=b\n", "prod", "creds");
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().message, "creds: no profile [prod]");
}

}  // namespace
}  // namespace villager::aws
