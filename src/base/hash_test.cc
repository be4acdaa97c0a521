#include "base/hash.h"

#include <gtest/gtest.h>

namespace villager {
namespace {

const std::string kHex = sha256_hex("villager");

TEST(Digest, OneSpellingFullAndShort) {
  std::string d = sha256_digest("villager");
  EXPECT_EQ(d, "sha256:" + kHex);
  EXPECT_EQ(digest_hex(d), kHex);
  EXPECT_EQ(short_digest(d), "sha256:" + kHex.substr(0, 12));
  EXPECT_TRUE(is_digest(d));
  EXPECT_EQ(parse_digest(d).value_or(""), kHex);
}

TEST(Digest, AnythingElseIsRefusedSayingWhy) {
  auto why = [](const std::string& text) {
    auto r = parse_digest(text);
    EXPECT_FALSE(r) << text;
    return r ? std::string() : r.error().message;
  };
  EXPECT_EQ(why("sha1:" + kHex), "digest 'sha1:" + kHex + "' does not start with 'sha256:'");
  EXPECT_NE(why("sha256:" + kHex.substr(1)).find("must have 64 hex digits"), std::string::npos);
  std::string upper = kHex;
  upper[0] = 'A';
  EXPECT_NE(why("sha256:" + upper).find("not lowercase hex"), std::string::npos);
  EXPECT_FALSE(is_digest(kHex));  // the hex alone is not a digest
  EXPECT_FALSE(is_digest(""));
}

}  // namespace
}  // namespace villager
