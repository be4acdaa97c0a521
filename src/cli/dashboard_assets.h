#pragma once
// The dashboard's static files (src/cli/dashboard_ui and uPlot from tools/npm), embedded in the binary
// at build time by cmake/embed_assets.cmake.

#include <string_view>

namespace villager::cli {

struct DashboardAsset {
  std::string_view path;          // URL path: "/", "/assets/app.js"
  std::string_view content_type;  // "text/html; charset=utf-8"
  std::string_view body;
};

// nullptr when no file has that path.
const DashboardAsset* find_dashboard_asset(std::string_view path);

}  // namespace villager::cli
