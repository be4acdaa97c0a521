#pragma once
// The sgraph-send profile's app paths the write and plaintext checks call, chosen by the
// [smoke.sgraph_send] preset for the app's version (docs/smoke.md, "Presets by version"). An explicit
// write_path or transfers_path always wins over the preset.

#include <optional>
#include <string>
#include <vector>

namespace villager::smoke {
class SmokeContext;
}

namespace villager::smoke::sgraph_send {

// One route layout of an app, valid from `min_version` on (until the next layout's).
struct PresetLayout {
  std::string name;  // "v0.3"
  std::string min_version;
  std::string write_path;
  std::string transfers_path;
  std::string openapi_path;  // where this layout serves openapi.json
};

// SGraph Send's layouts, oldest first.
const std::vector<PresetLayout>& sgraph_send_layouts();

// "v0.3.5" -> {0, 3, 5}; a leading 'v' is optional, missing parts are 0. nullopt for anything else.
std::optional<std::vector<int>> parse_app_version(const std::string& text);
// The layout for `version` (the newest one that starts at or before it); the newest when unparseable.
const PresetLayout& layout_for_version(const std::vector<PresetLayout>& layouts, const std::string& version);

struct AppPaths {
  std::string write_path;  // "" = the write check is off
  std::string transfers_path;
  std::string version;      // the app version the preset read ("" = not found)
  std::string explanation;  // "preset sgraph-send v0.3 layout: app version v0.3.5 from ..."
};

// Resolves the paths once per run: [smoke.sgraph_send] app_version, else the transfers service's openapi.json
// (its `paths` decide the layout, `info.version` is noted), else SmokeOptions::version (the version
// file or the release), else the newest layout.
AppPaths resolve_app_paths(SmokeContext& ctx);

}  // namespace villager::smoke::sgraph_send
