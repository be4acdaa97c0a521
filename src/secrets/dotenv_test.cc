#include "secrets/dotenv.h"

#include <gtest/gtest.h>

namespace villager::secrets {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

TEST(Dotenv, ParsesBareQuotedExportAndComments) {
  auto r = parse_dotenv(
      "# comment\n"
      "\n"
      "PLAIN=plain-value\n"
      "export EXPORTED = spaced-value   # trailing comment\n"
      "SINGLE='single # not a comment \\n'\n"
      "DOUBLE=\"line1\\nline2 \\\"q\\\"\"  # c\n"
      "WINDOWS=crlf-value\r\n",
      "x.env");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(*r, (Pairs{{"PLAIN", "plain-value"},
                       {"EXPORTED", "spaced-value"},
                       {"SINGLE", "single # not a comment \\n"},
                       {"DOUBLE", "line1\nline2 \"q\""},
                       {"WINDOWS", "crlf-value"}}));
}

TEST(Dotenv, EveryBadLineIsNamedWithoutItsValue) {
  auto r = parse_dotenv(
      "GOOD=fine-value\n"
      "no equals sign here\n"
      "1BAD=leaky-value-1\n"
      "OPEN=\"leaky-value-2\n"
      "GOOD=leaky-value-3\n"
      "EMPTY=\n",
      "x.env");
  ASSERT_FALSE(r.has_value());
  const std::string& m = r.error().message;
  EXPECT_EQ(r.error().code, Code::kInvalidArgument);
  EXPECT_NE(m.find("x.env:2: expected KEY=VALUE"), std::string::npos) << m;
  EXPECT_NE(m.find("x.env:3: bad name"), std::string::npos) << m;
  EXPECT_NE(m.find("x.env:4 (OPEN): unterminated double-quoted value"), std::string::npos) << m;
  EXPECT_NE(m.find("x.env:5 (GOOD): repeated (first on line 1)"), std::string::npos) << m;
  EXPECT_NE(m.find("x.env:6 (EMPTY): empty value"), std::string::npos) << m;
  EXPECT_EQ(m.find("leaky"), std::string::npos) << m;
}

TEST(Dotenv, TextAfterClosingQuoteIsAnError) {
  auto r = parse_dotenv("A='x' y\n", "f");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("f:1 (A): text after the closing quote"), std::string::npos);
}

}  // namespace
}  // namespace villager::secrets
