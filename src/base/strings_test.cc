#include "base/strings.h"

#include <gtest/gtest.h>

namespace villager {

TEST(Strings, SuggestFindsTheClosestCommand) {
  EXPECT_EQ(suggest("delpoy", {"deploy", "rollback", "status"}), "deploy");
  EXPECT_EQ(suggest("taget", {"target", "listen", "watch"}), "target");
  EXPECT_EQ(suggest("xyzzy", {"deploy", "rollback"}), "");
}

TEST(Strings, ParsesDurationsWithUnits) {
  EXPECT_EQ(parse_duration("500ms")->count(), 500);
  EXPECT_EQ(parse_duration("30s")->count(), 30'000);
  EXPECT_EQ(parse_duration("30m")->count(), 1'800'000);
  EXPECT_EQ(parse_duration("1h30m")->count(), 5'400'000);
  EXPECT_FALSE(parse_duration("30").has_value());
  EXPECT_FALSE(parse_duration("5 minutes").has_value());
  EXPECT_FALSE(parse_duration("").has_value());
  EXPECT_FALSE(parse_duration("1x").has_value());
}

TEST(Strings, FormatsDurationsShortest) {
  EXPECT_EQ(format_duration(std::chrono::milliseconds(5'400'000)), "1h30m");
  EXPECT_EQ(format_duration(std::chrono::milliseconds(250)), "250ms");
  EXPECT_EQ(format_duration(std::chrono::milliseconds(0)), "0s");
}

TEST(Strings, EncodingsRoundTrip) {
  std::string bytes("\x00\xff\x10hello", 8);
  EXPECT_EQ(*hex_decode(hex_encode(bytes)), bytes);
  EXPECT_EQ(*base64_decode(base64_encode(bytes)), bytes);
  EXPECT_EQ(*base64_decode(base64url_encode(bytes)), bytes);
  EXPECT_EQ(base64_encode("hi"), "aGk=");
  EXPECT_EQ(base64url_encode("hi"), "aGk");
  EXPECT_FALSE(hex_decode("abc").has_value());
}

TEST(Strings, QuoteEscapesControlCharacters) {
  EXPECT_EQ(quote("a\"b\n"), "\"a\\\"b\\n\"");
}

}  // namespace villager
