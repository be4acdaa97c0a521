#pragma once
// The names a gate puts in file names and TOML (roles, signers, environments, services).

#include <cctype>
#include <string_view>

namespace villager::gate {

// Letters, digits, '-' and '_', 1-64 characters: safe in a file name and a TOML string.
inline bool valid_name(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
  return true;
}

}  // namespace villager::gate
