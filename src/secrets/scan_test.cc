#include "secrets/scan.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "base/fs.h"
#include "base/strings.h"
#include "secrets/secret_store.h"
#include "testutil/temp_dir.h"

namespace villager::secrets {
namespace {

class ScanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::unsetenv("VILLAGER_SECRETS_KEY_PRODUCTION");
    SecretStore::Options o;
    o.create_key = true;
    auto s = SecretStore::open(state(), "production", KeySource::for_env(state(), "production"), o).value();
    s.set("API_TOKEN", "scan-me-old-value").value();
    s.set("API_TOKEN", "scan-me-new-value").value();
  }
  fs::path state() const { return dir_.path() / ".villager"; }
  TempDir dir_;
};

TEST_F(ScanTest, StateDirectoryHoldsNoValue) {
  auto known = known_secrets(state(), "production");
  ASSERT_EQ(known.size(), 2u);
  EXPECT_EQ(known[1].label, "production/API_TOKEN v2");
  auto leaks = scan_for_secrets({state()}, known);
  ASSERT_TRUE(leaks.has_value()) << leaks.error().message;
  EXPECT_TRUE(leaks->empty());
}

TEST_F(ScanTest, FindsEveryFormAndNamesFileSecretAndForm) {
  ASSERT_TRUE(ensure_dir(dir_ / "logs").ok());
  ASSERT_TRUE(write_file_atomic(dir_ / "logs" / "a.log", "token=" + hex_encode("scan-me-old-value")).ok());
  ASSERT_TRUE(
      write_file_atomic(dir_ / "logs" / "b.log", "x " + base64_encode("scan-me-new-value") + " y").ok());
  ASSERT_TRUE(write_file_atomic(dir_ / "single.txt", "scan-me-new-value").ok());
  auto leaks =
      scan_for_secrets({state(), dir_ / "logs", dir_ / "single.txt"}, known_secrets(state(), "production"));
  ASSERT_TRUE(leaks.has_value());
  ASSERT_EQ(leaks->size(), 3u);
  EXPECT_EQ((*leaks)[0].file, dir_ / "logs" / "a.log");
  EXPECT_EQ((*leaks)[0].label, "production/API_TOKEN v1");
  EXPECT_EQ((*leaks)[0].form, "hex");
  EXPECT_EQ((*leaks)[1].form, "base64");
  EXPECT_EQ((*leaks)[2].form, "raw");
}

TEST_F(ScanTest, NoKeyMeansNothingKnown) {
  fs::remove(default_key_file(state(), "production"));
  EXPECT_TRUE(known_secrets(state(), "production").empty());
}

}  // namespace
}  // namespace villager::secrets
