#include "gate/keys.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "base/fs.h"
#include "base/strings.h"
#include "testutil/temp_dir.h"

namespace villager::gate {
namespace {

TEST(Keys, PrivateKeyFileIsMode0600AndRoundTrips) {
  TempDir t;
  auto k = generate_key("qa", "qa-lead");
  ASSERT_TRUE(k.has_value());
  ASSERT_TRUE(write_private_key(t / "qa.key", *k).ok());
  struct stat st {};
  ASSERT_EQ(::stat((t / "qa.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  auto back = read_private_key(t / "qa.key");
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_EQ(back->role, "qa");
  EXPECT_EQ(back->name, "qa-lead");
  EXPECT_EQ(back->public_key, k->public_key);
  auto text = read_file(t / "qa.key");
  EXPECT_TRUE(starts_with(*text, "villager-ed25519-private qa qa-lead "));
}

TEST(Keys, LooseModeIsRefused) {
  TempDir t;
  auto k = generate_key("qa", "qa-lead");
  ASSERT_TRUE(write_private_key(t / "qa.key", *k).ok());
  ASSERT_EQ(::chmod((t / "qa.key").c_str(), 0644), 0);
  auto r = read_private_key(t / "qa.key");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Code::kPermissionDenied);
  EXPECT_NE(r.error().message.find("chmod 600"), std::string::npos) << r.error().message;
}

TEST(Keys, ExistingFileIsNotOverwritten) {
  TempDir t;
  auto k = generate_key("qa", "qa-lead");
  ASSERT_TRUE(write_private_key(t / "qa.key", *k).ok());
  auto again = write_private_key(t / "qa.key", *generate_key("qa", "qa-lead"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, Code::kConflict);
  EXPECT_EQ(read_private_key(t / "qa.key")->public_key, k->public_key);
}

TEST(Keys, MalformedKeyFileIsRefused) {
  TempDir t;
  ASSERT_TRUE(
      write_file_atomic(t / "bad.key", "villager-ed25519-private qa qa-lead AAAA\n", fs::perms(0600)).ok());
  auto r = read_private_key(t / "bad.key");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("bad.key"), std::string::npos);
}

TEST(Keys, BadNamesAreRefused) {
  EXPECT_FALSE(generate_key("q a", "x").has_value());
  EXPECT_FALSE(generate_key("qa", "../x").has_value());
}

TEST(Keys, PublicKeyTextRoundTripsStrictly) {
  auto k = generate_key("qa", "qa-lead");
  std::string text = public_key_text(k->public_key);
  EXPECT_TRUE(starts_with(text, "ed25519:"));
  EXPECT_EQ(*parse_public_key(text), k->public_key);
  EXPECT_FALSE(parse_public_key("ed25519:AAAA").has_value());
  EXPECT_FALSE(parse_public_key(text.substr(8)).has_value());
  EXPECT_NE(signer_toml(*k).find("public_key = \"" + text + "\""), std::string::npos);
}

TEST(Keys, SignatureVerifiesOnlyForTheSameMessageAndKey) {
  auto k = generate_key("qa", "qa-lead");
  auto other = generate_key("qa", "qa-lead");
  std::string sig = sign_detached(*k, "hello");
  EXPECT_TRUE(verify_detached(k->public_key, "hello", sig));
  EXPECT_FALSE(verify_detached(k->public_key, "hellp", sig));
  EXPECT_FALSE(verify_detached(other->public_key, "hello", sig));
}

}  // namespace
}  // namespace villager::gate
