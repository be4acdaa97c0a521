#include "smoke/sgraph_send/preset.h"

#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "smoke/context.h"
#include "smoke/sgraph_send/profile.h"

namespace villager::smoke::sgraph_send {

namespace {

// openapi.json is a hint: a service that is slow to serve it must not slow the suite down.
constexpr std::chrono::milliseconds kOpenApiTimeout{3000};

struct OpenApi {
  std::string url;
  std::string version;
  std::vector<std::string> paths;
};

// The first openapi.json any layout serves on `t`, if one answers 200 with a JSON object.
std::optional<OpenApi> fetch_openapi(SmokeContext& ctx, const SmokeTarget& t,
                                     const std::vector<PresetLayout>& layouts) {
  for (const auto& l : layouts) {
    net::HttpRequest req;
    req.timeout = kOpenApiTimeout;
    auto resp = ctx.send(t, req, l.openapi_path);
    if (!resp || resp->status != 200) continue;
    auto j = nlohmann::json::parse(resp->body, nullptr, false);
    if (!j.is_object()) continue;
    OpenApi o;
    o.url = net::join_url(t.base_url, l.openapi_path);
    if (j.contains("info") && j["info"].is_object() && j["info"].contains("version") &&
        j["info"]["version"].is_string())
      o.version = j["info"]["version"].get<std::string>();
    if (j.contains("paths") && j["paths"].is_object())
      for (auto it = j["paths"].begin(); it != j["paths"].end(); ++it) o.paths.push_back(it.key());
    return o;
  }
  return std::nullopt;
}

const PresetLayout* layout_with_path(const std::vector<PresetLayout>& layouts,
                                     const std::vector<std::string>& paths) {
  for (auto it = layouts.rbegin(); it != layouts.rend(); ++it)
    if (std::find(paths.begin(), paths.end(), it->write_path) != paths.end()) return &*it;
  return nullptr;
}

}  // namespace

const std::vector<PresetLayout>& sgraph_send_layouts() {
  // v0.3.5 (read) serves the API at the root; v0.27.6 (read) behind /api, the prefix CloudFront routes to
  // the Lambda. The versions between were not read: v0.8.0 is where this preset assumes the change, and
  // openapi.json, when reachable, decides by the paths the app really lists.
  static const std::vector<PresetLayout> kLayouts = {
      {"v0.3", "v0.0.0", "/transfers/create", "/transfers", "/openapi.json"},
      {"v0.8", "v0.8.0", "/api/transfers/create", "/api/transfers", "/api/openapi.json"},
  };
  return kLayouts;
}

std::optional<std::vector<int>> parse_app_version(const std::string& text) {
  std::string_view v = trim(text);
  if (!v.empty() && (v[0] == 'v' || v[0] == 'V')) v.remove_prefix(1);
  if (v.empty()) return std::nullopt;
  std::vector<int> out;
  for (const auto& part : split(v, '.')) {
    if (part.empty() || part.size() > 6 || part.find_first_not_of("0123456789") != std::string::npos)
      return std::nullopt;
    out.push_back(std::stoi(part));
  }
  while (out.size() < 3) out.push_back(0);
  return out;
}

const PresetLayout& layout_for_version(const std::vector<PresetLayout>& layouts, const std::string& version) {
  auto v = parse_app_version(version);
  if (!v) return layouts.back();
  const PresetLayout* chosen = &layouts.front();
  for (const auto& l : layouts)
    if (auto min = parse_app_version(l.min_version); min && *min <= *v) chosen = &l;
  return *chosen;
}

AppPaths resolve_app_paths(SmokeContext& ctx) {
  const auto& sc = ctx.config.smoke.sgraph_send;
  AppPaths out;
  if (sc.preset == "none" || (sc.write_path && sc.transfers_path)) {
    out.write_path = sc.write_path.value_or("");
    out.transfers_path = sc.transfers_path.value_or("");
    out.explanation = "paths from [smoke.sgraph_send] write_path and transfers_path";
    return out;
  }
  const auto& layouts = sgraph_send_layouts();
  const PresetLayout* layout = nullptr;
  std::string why;
  if (!sc.app_version.empty()) {
    out.version = sc.app_version;
    why = "app version " + out.version + " pinned by [smoke.sgraph_send] app_version";
  } else {
    const SmokeTarget* transfers = nullptr;
    for (const auto& t : ctx.targets)
      if (const auto* s = ctx.config.service(t.service); s && is_transfers_service(ctx.config, *s))
        transfers = &t;
    std::optional<OpenApi> api = transfers ? fetch_openapi(ctx, *transfers, layouts) : std::nullopt;
    if (api) {
      out.version = api->version;
      layout = layout_with_path(layouts, api->paths);
      why = "app version " + (api->version.empty() ? std::string("(none)") : api->version) + " from " +
            api->url + (layout ? ", which lists " + layout->write_path : "");
    } else if (!ctx.options.version.empty()) {
      out.version = ctx.options.version;
      why = "app version " + out.version + " from the version file (no openapi.json reachable)";
    } else {
      why = "app version unknown (no openapi.json, no version file): the newest layout";
    }
  }
  if (!layout) layout = &layout_for_version(layouts, out.version);
  out.write_path = sc.write_path.value_or(layout->write_path);
  out.transfers_path = sc.transfers_path.value_or(layout->transfers_path);
  out.explanation = "preset sgraph-send " + layout->name + " layout (" + why + ")";
  if (sc.write_path) out.explanation += "; write_path set in [smoke.sgraph_send]";
  if (sc.transfers_path) out.explanation += "; transfers_path set in [smoke.sgraph_send]";
  return out;
}

}  // namespace villager::smoke::sgraph_send
