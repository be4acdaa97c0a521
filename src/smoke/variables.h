#pragma once
// ${...} variables in declarative checks: ${VERSION}, ${secret:NAME} and values captured by earlier
// checks (${TRANSFER_ID}). An unknown variable is an error naming it, never an empty string.

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "base/error.h"

namespace villager::smoke {

struct VariableScope {
  std::string version;
  std::function<std::optional<std::string>(const std::string&)> secret;
  const std::map<std::string, std::string>* captured = nullptr;
};

// Replaces every ${NAME}; "$${" stays a literal "${".
Result<std::string> expand_variables(const std::string& text, const VariableScope& scope);

}  // namespace villager::smoke
