#pragma once
// How `villager promote` and `villager abort` print what they changed: one line per service and the
// message (stdout when it worked, stderr when not), or one JSON object with --json.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pipeline/deploy.h"

namespace villager::cli {

// Prints the outcome; `extra` fields are added to the JSON. Returns exit_code.
int print_change_outcome(const std::string& env, int exit_code, const std::string& message,
                         const std::vector<pipeline::ServiceResult>& services, bool as_json,
                         const nlohmann::json& extra = nlohmann::json::object());

}  // namespace villager::cli
