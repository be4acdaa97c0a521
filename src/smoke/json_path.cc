#include "smoke/json_path.h"

#include <charconv>

#include "base/strings.h"

namespace villager::smoke {

const nlohmann::json* json_at(const nlohmann::json& root, const std::string& path) {
  std::string p = path;
  if (p == "$") return &root;
  if (starts_with(p, "$.")) p = p.substr(2);
  const nlohmann::json* cur = &root;
  for (const auto& step : split(p, '.')) {
    if (cur->is_object()) {
      auto it = cur->find(step);
      if (it == cur->end()) return nullptr;
      cur = &*it;
    } else if (cur->is_array()) {
      size_t idx = 0;
      auto [ptr, ec] = std::from_chars(step.data(), step.data() + step.size(), idx);
      if (ec != std::errc() || ptr != step.data() + step.size() || idx >= cur->size()) return nullptr;
      cur = &(*cur)[idx];
    } else {
      return nullptr;
    }
  }
  return cur;
}

std::string json_text(const nlohmann::json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

}  // namespace villager::smoke
