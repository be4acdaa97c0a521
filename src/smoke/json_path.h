#pragma once
// Dotted JSON paths for declarative checks: "transfer_id", "tokens.0", "$.meta.size" (a leading "$."
// is allowed). Array elements are addressed by index.

#include <nlohmann/json.hpp>
#include <string>

namespace villager::smoke {

// The value at `path`, or nullptr when any step is missing.
const nlohmann::json* json_at(const nlohmann::json& root, const std::string& path);
// The value as text for captures and messages: strings without quotes, everything else as JSON.
std::string json_text(const nlohmann::json& value);

}  // namespace villager::smoke
