#include "cli/args.h"

#include <gtest/gtest.h>

namespace villager::cli {

TEST(Args, ParsesValuesFlagsAndPositionals) {
  auto a = Args::parse({"production", "--json", "-c", "x.toml", "--service=user"},
                       {{"json"}, {"config", true, 'c'}, {"service", true}});
  ASSERT_TRUE(a.has_value()) << a.error().message;
  EXPECT_TRUE(a->has("json"));
  EXPECT_EQ(a->get("config"), "x.toml");
  EXPECT_EQ(a->get("service"), "user");
  ASSERT_EQ(a->positionals().size(), 1u);
  EXPECT_EQ(a->positionals()[0], "production");
}

TEST(Args, UnknownFlagSuggestsTheClosest) {
  auto a = Args::parse({"--jsn"}, {{"json"}, {"service", true}});
  ASSERT_FALSE(a.has_value());
  EXPECT_NE(a.error().message.find("did you mean '--json'"), std::string::npos) << a.error().message;
}

TEST(Args, MissingValueIsAnError) {
  auto a = Args::parse({"--service"}, {{"service", true}});
  ASSERT_FALSE(a.has_value());
  EXPECT_NE(a.error().message.find("needs a value"), std::string::npos);
}

TEST(Args, DoubleDashStopsFlagParsing) {
  auto a = Args::parse({"--", "--json"}, {{"json"}});
  ASSERT_TRUE(a.has_value());
  EXPECT_FALSE(a->has("json"));
  EXPECT_EQ(a->positionals().at(0), "--json");
}

}  // namespace villager::cli
