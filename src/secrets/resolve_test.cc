#include "secrets/resolve.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "base/fs.h"
#include "base/strings.h"
#include "secrets/secret_store.h"
#include "testutil/temp_dir.h"

namespace villager::secrets {
namespace {

class ResolveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::unsetenv("VILLAGER_SECRETS_KEY_PRODUCTION");
    service_.name = "admin";
    service_.secrets = {"SGRAPH_SEND__ACCESS_TOKEN"};
    service_.auth_secret = "FAST_API__AUTH__API_KEY__VALUE";
  }
  fs::path state() const { return dir_.path() / ".villager"; }
  SecretStore store() {
    SecretStore::Options o;
    o.create_key = true;
    return SecretStore::open(state(), "production", KeySource::for_env(state(), "production"), o).value();
  }
  TempDir dir_;
  config::ServiceConfig service_;
};

TEST_F(ResolveTest, RequiredSecretsIncludeAuthSecretOnce) {
  service_.secrets.push_back("FAST_API__AUTH__API_KEY__VALUE");
  EXPECT_EQ(required_secrets(service_),
            (std::vector<std::string>{"FAST_API__AUTH__API_KEY__VALUE", "SGRAPH_SEND__ACCESS_TOKEN"}));
}

TEST_F(ResolveTest, LatestVersionsAreResolvedAndRecorded) {
  auto s = store();
  s.set("SGRAPH_SEND__ACCESS_TOKEN", "access-v1").value();
  s.set("SGRAPH_SEND__ACCESS_TOKEN", "access-v2").value();
  s.set("FAST_API__AUTH__API_KEY__VALUE", "apikey-v1").value();
  auto r = resolve_for_service(state(), "production", service_);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->values.at("SGRAPH_SEND__ACCESS_TOKEN").reveal(), "access-v2");
  EXPECT_EQ(r->values.at("FAST_API__AUTH__API_KEY__VALUE").reveal(), "apikey-v1");
  EXPECT_EQ(r->versions, (std::map<std::string, int>{{"FAST_API__AUTH__API_KEY__VALUE", 1},
                                                     {"SGRAPH_SEND__ACCESS_TOKEN", 2}}));
}

TEST_F(ResolveTest, PinnedVersionsResolveOldValuesEvenAfterRemoval) {
  auto s = store();
  s.set("SGRAPH_SEND__ACCESS_TOKEN", "access-v1").value();
  s.set("FAST_API__AUTH__API_KEY__VALUE", "apikey-v1").value();
  auto first = resolve_for_service(state(), "production", service_).value();
  s.set("SGRAPH_SEND__ACCESS_TOKEN", "access-v2").value();
  s.rm("FAST_API__AUTH__API_KEY__VALUE").value();
  auto rolled_back = resolve_for_service(state(), "production", service_, &first.versions);
  ASSERT_TRUE(rolled_back.has_value()) << rolled_back.error().message;
  EXPECT_EQ(rolled_back->values.at("SGRAPH_SEND__ACCESS_TOKEN").reveal(), "access-v1");
  EXPECT_EQ(rolled_back->values.at("FAST_API__AUTH__API_KEY__VALUE").reveal(), "apikey-v1");
  EXPECT_EQ(rolled_back->versions, first.versions);
  // Unpinned, the removal is a missing secret.
  EXPECT_FALSE(resolve_for_service(state(), "production", service_).has_value());
}

TEST_F(ResolveTest, PinnedVersionThatDoesNotExistIsNamed) {
  store().set("SGRAPH_SEND__ACCESS_TOKEN", "access-v1").value();
  store().set("FAST_API__AUTH__API_KEY__VALUE", "apikey-v1").value();
  std::map<std::string, int> pinned{{"SGRAPH_SEND__ACCESS_TOKEN", 7}};
  auto r = resolve_for_service(state(), "production", service_, &pinned);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("needs secret SGRAPH_SEND__ACCESS_TOKEN v7"), std::string::npos)
      << r.error().message;
}

TEST_F(ResolveTest, MissingSecretNamesSecretServiceEnvironmentAndFix) {
  store().set("SGRAPH_SEND__ACCESS_TOKEN", "access-v1").value();
  auto r = resolve_for_service(state(), "production", service_);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Code::kFailedPrecondition);
  EXPECT_NE(r.error().message.find("service admin in production needs secret FAST_API__AUTH__API_KEY__VALUE, "
                                   "which is not set (fix: villager secrets set production "
                                   "FAST_API__AUTH__API_KEY__VALUE"),
            std::string::npos)
      << r.error().message;
}

TEST_F(ResolveTest, CheckRequiredSecretsReportsEveryServiceBeforeAnythingStarts) {
  config::ServiceConfig user;
  user.name = "user";
  user.secrets = {"SGRAPH_SEND__ACCESS_TOKEN"};
  config::ServiceConfig plain;
  plain.name = "static";
  auto s = check_required_secrets(state(), "production", {user, service_, plain});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("service user in production needs secret SGRAPH_SEND__ACCESS_TOKEN"),
            std::string::npos);
  EXPECT_NE(s.error().message.find("service admin in production needs secret FAST_API__AUTH__API_KEY__VALUE"),
            std::string::npos);
  EXPECT_EQ(s.error().message.find("static"), std::string::npos);
  EXPECT_TRUE(check_required_secrets(state(), "production", {plain}).ok());
}

TEST_F(ResolveTest, RegisterForRedactionCoversOldVersionsAndSkipsWhatItCannotOpen) {
  store().set("SGRAPH_SEND__ACCESS_TOKEN", "old-access-value").value();
  store().set("SGRAPH_SEND__ACCESS_TOKEN", "new-access-value").value();
  clear_secrets_for_test();
  EXPECT_EQ(register_for_redaction(state(), "production"), 2u);
  EXPECT_EQ(redact("old-access-value new-access-value " + hex_encode("new-access-value")), "*** *** ***");
  EXPECT_EQ(register_for_redaction(state(), "explorer"), 0u);
  fs::remove(default_key_file(state(), "production"));
  EXPECT_EQ(register_for_redaction(state(), "production"), 0u);
}

}  // namespace
}  // namespace villager::secrets
