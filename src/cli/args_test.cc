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

TEST(Args, ShortOptionTakesItsValueAttachedOrSeparate) {
  auto a = Args::parse({"-t2", "-c", "x.toml", "-n100"},
                       {{"threads", true, 't'}, {"config", true, 'c'}, {"count", true, 'n'}});
  ASSERT_TRUE(a.has_value()) << a.error().message;
  EXPECT_EQ(a->get("threads"), "2");
  EXPECT_EQ(a->get("config"), "x.toml");
  EXPECT_EQ(a->get("count"), "100");
  // A flag without a value does not take one attached, and unknown letters stay errors.
  auto flag = Args::parse({"-hx"}, {});
  ASSERT_FALSE(flag.has_value());
  EXPECT_NE(flag.error().message.find("unknown option '-hx'"), std::string::npos) << flag.error().message;
  auto unknown = Args::parse({"-q5"}, {{"threads", true, 't'}});
  ASSERT_FALSE(unknown.has_value());
}

}  // namespace villager::cli
