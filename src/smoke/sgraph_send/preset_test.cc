#include "smoke/sgraph_send/preset.h"

#include <gtest/gtest.h>

namespace villager::smoke::sgraph_send {

TEST(Preset, ParsesAppVersions) {
  EXPECT_EQ(parse_app_version("v0.3.5"), (std::vector<int>{0, 3, 5}));
  EXPECT_EQ(parse_app_version("0.27.6\n"), (std::vector<int>{0, 27, 6}));
  EXPECT_EQ(parse_app_version("v1"), (std::vector<int>{1, 0, 0}));
  EXPECT_FALSE(parse_app_version(""));
  EXPECT_FALSE(parse_app_version("latest"));
  EXPECT_FALSE(parse_app_version("v0.3.x"));
}

TEST(Preset, SgraphSendLayoutFollowsTheVersion) {
  const auto& layouts = sgraph_send_layouts();
  EXPECT_EQ(layout_for_version(layouts, "v0.3.5").write_path, "/transfers/create");
  EXPECT_EQ(layout_for_version(layouts, "v0.7.19").transfers_path, "/transfers");
  EXPECT_EQ(layout_for_version(layouts, "v0.8.0").write_path, "/api/transfers/create");
  EXPECT_EQ(layout_for_version(layouts, "v0.27.6").transfers_path, "/api/transfers");
  // Unknown: the newest layout.
  EXPECT_EQ(layout_for_version(layouts, "").name, "v0.8");
  EXPECT_EQ(layout_for_version(layouts, "not-a-version").name, "v0.8");
}

}  // namespace villager::smoke::sgraph_send
