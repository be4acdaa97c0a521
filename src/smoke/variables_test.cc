#include "smoke/variables.h"

#include <gtest/gtest.h>

#include "smoke/json_path.h"

namespace villager::smoke {

TEST(Variables, ExpandsVersionSecretsAndCaptures) {
  std::map<std::string, std::string> captured = {{"TID", "abc123"}};
  VariableScope scope{"v1.2.3",
                      [](const std::string& n) -> std::optional<std::string> {
                        if (n == "KEY") return "k-value";
                        return std::nullopt;
                      },
                      &captured};
  EXPECT_EQ(*expand_variables("/x/${TID}?v=${VERSION}&k=${secret:KEY}", scope),
            "/x/abc123?v=v1.2.3&k=k-value");
  EXPECT_EQ(*expand_variables("literal $${TID} and $ alone", scope), "literal ${TID} and $ alone");
  auto unknown = expand_variables("${NOPE}", scope);
  ASSERT_FALSE(unknown.has_value());
  EXPECT_NE(unknown.error().message.find("unknown variable ${NOPE}"), std::string::npos);
  EXPECT_FALSE(expand_variables("${secret:MISSING}", scope).has_value());
  EXPECT_FALSE(expand_variables("${TID", scope).has_value());
  scope.version.clear();
  EXPECT_FALSE(expand_variables("${VERSION}", scope).has_value());
}

TEST(JsonPath, WalksObjectsAndArrays) {
  auto j = nlohmann::json::parse(R"({"a":{"b":[10,{"c":"x"}]},"n":1})");
  EXPECT_EQ(*json_at(j, "a.b.0"), 10);
  EXPECT_EQ(json_text(*json_at(j, "$.a.b.1.c")), "x");
  EXPECT_EQ(json_text(*json_at(j, "n")), "1");
  EXPECT_EQ(json_at(j, "a.b.2"), nullptr);
  EXPECT_EQ(json_at(j, "a.z"), nullptr);
  EXPECT_EQ(json_at(j, "n.x"), nullptr);
  EXPECT_EQ(json_at(j, "$"), &j);
}

}  // namespace villager::smoke
