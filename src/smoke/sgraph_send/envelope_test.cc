#include "smoke/sgraph_send/envelope.h"

#include <gtest/gtest.h>

namespace villager::smoke::sgraph_send {

TEST(Envelope, SgmetaLayout) {
  std::string e = sgmeta_envelope("a.txt", "hello");
  std::string json = "{\"filename\":\"a.txt\"}";
  ASSERT_EQ(e.substr(0, 6), "SGMETA");
  EXPECT_EQ(static_cast<unsigned char>(e[6]), 0);
  EXPECT_EQ(static_cast<unsigned char>(e[9]), json.size());
  EXPECT_EQ(e.substr(10, json.size()), json);
  EXPECT_EQ(e.substr(10 + json.size()), "hello");
}

TEST(Envelope, EncryptsWithIvPrependedAndRoundTrips) {
  std::string key = random_bytes(kAesKeyBytes), iv = random_bytes(kGcmIvBytes);
  auto p = encrypt_payload(key, iv, "marker text");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->size(), kGcmIvBytes + 11 + kGcmTagBytes);
  EXPECT_EQ(p->substr(0, kGcmIvBytes), iv);
  EXPECT_EQ(p->find("marker"), std::string::npos);
  auto back = decrypt_payload(key, *p);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, "marker text");
  std::string tampered = *p;
  tampered[kGcmIvBytes] ^= 1;
  EXPECT_FALSE(decrypt_payload(key, tampered).has_value());
  EXPECT_FALSE(encrypt_payload("short", iv, "x").has_value());
}

}  // namespace villager::smoke::sgraph_send
