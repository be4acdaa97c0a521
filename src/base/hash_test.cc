#include "base/hash.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <unordered_set>

namespace villager {
namespace {

const std::string kHex = sha256_hex("villager");

// (parse_digest, is_digest and sha256_digest went away when their last callers became Digest's; these
// two tests assert what they asserted of them.)
TEST(Digest, OneSpellingFullAndShort) {
  std::string d = Digest::of("villager").full();
  EXPECT_EQ(d, "sha256:" + kHex);
  EXPECT_EQ(digest_hex(d), kHex);
  EXPECT_EQ(short_digest(d), "sha256:" + kHex.substr(0, 12));
  EXPECT_TRUE(Digest::parse(d));
  EXPECT_EQ(Digest::parse(d).value_or(Digest()).hex(), kHex);
}

TEST(Digest, AnythingElseIsRefusedSayingWhy) {
  auto why = [](const std::string& text) {
    auto r = Digest::parse(text);
    EXPECT_FALSE(r) << text;
    return r ? std::string() : r.error().message;
  };
  EXPECT_EQ(why("sha1:" + kHex), "digest 'sha1:" + kHex + "' does not start with 'sha256:'");
  EXPECT_NE(why("sha256:" + kHex.substr(1)).find("must have 64 hex digits"), std::string::npos);
  std::string upper = kHex;
  upper[0] = 'A';
  EXPECT_NE(why("sha256:" + upper).find("not lowercase hex"), std::string::npos);
  EXPECT_FALSE(Digest::parse(kHex));  // the hex alone is not a digest
  EXPECT_FALSE(Digest::parse(""));
}

TEST(Digest, OfDataHasTheFullHexAndShortForms) {
  Digest d = Digest::of("villager");
  EXPECT_FALSE(d.empty());
  EXPECT_EQ(d.full(), "sha256:" + kHex);
  EXPECT_EQ(d.hex(), kHex);
  EXPECT_EQ(d.short_form(), "sha256:" + kHex.substr(0, 12));
  EXPECT_EQ(d.short_hex(), kHex.substr(0, 12));
  std::ostringstream os;
  os << d;
  EXPECT_EQ(os.str(), d.full());
}

TEST(Digest, ParseRoundTripsTheFullForm) {
  Digest d = Digest::of("villager");
  auto parsed = Digest::parse(d.full());
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(*parsed, d);
  auto from_hex = Digest::from_hex(kHex);
  ASSERT_TRUE(from_hex) << from_hex.error().message;
  EXPECT_EQ(*from_hex, d);
}

TEST(Digest, ParseRefusalsAreInvalidArgumentQuotingTheText) {
  std::string upper = kHex;
  upper[0] = 'A';
  for (const std::string& text : {"sha1:" + kHex, "sha256:" + kHex.substr(1), "sha256:" + upper, kHex,
                                  std::string(), "sha256:" + kHex + "0"}) {
    auto d = Digest::parse(text);
    ASSERT_FALSE(d) << text;
    EXPECT_EQ(d.error().code, Code::kInvalidArgument);
    EXPECT_EQ(d.error().message.rfind("digest '" + text + "' ", 0), 0u) << d.error().message;
  }
}

TEST(Digest, FromHexRefusesAPrefixedOrShortOrUppercaseHex) {
  std::string upper = kHex;
  upper[3] = 'F';
  EXPECT_FALSE(Digest::from_hex("sha256:" + kHex));
  EXPECT_FALSE(Digest::from_hex(kHex.substr(0, 63)));
  auto bad = Digest::from_hex(upper);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("not lowercase hex"), std::string::npos);
  EXPECT_FALSE(Digest::from_hex(""));
}

TEST(Digest, DefaultIsEmptyAndSpellsNothing) {
  Digest d;
  EXPECT_TRUE(d.empty());
  EXPECT_EQ(d.full(), "");
  EXPECT_EQ(d.hex(), "");
  EXPECT_EQ(d.short_form(), "");
  EXPECT_NE(d, Digest::of(""));  // the digest of no bytes is a digest, not an empty one
}

TEST(Digest, OfFileHashesTheBytesAndANoFileIsNotFound) {
  auto dir = std::filesystem::path(::testing::TempDir()) / "digest_of_file";
  std::filesystem::create_directories(dir);
  { std::ofstream(dir / "f", std::ios::binary) << "villager"; }
  auto d = Digest::of_file(dir / "f");
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(*d, Digest::of("villager"));
  auto missing = Digest::of_file(dir / "nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Code::kNotFound);
}

TEST(Digest, OrdersAndHashesByItsSpelling) {
  Digest a = *Digest::from_hex(std::string(64, 'a'));
  Digest b = *Digest::from_hex(std::string(64, 'b'));
  EXPECT_LT(a, b);
  EXPECT_LT(Digest(), a);
  std::map<Digest, int> ordered{{b, 2}, {a, 1}};
  EXPECT_EQ(ordered.begin()->first, a);
  std::unordered_set<Digest> set{a, b, a};
  EXPECT_EQ(set.size(), 2u);
  EXPECT_EQ(std::hash<Digest>{}(a), std::hash<Digest>{}(*Digest::parse(a.full())));
}

}  // namespace
}  // namespace villager
