#pragma once
// A strict dotenv reader for `villager secrets import`: KEY=VALUE per line, blank lines and `#` comments,
// an optional `export ` prefix, values bare (trimmed, ` #` starts a comment), 'single-quoted' (literal) or
// "double-quoted" (\n \t \" \\ escapes). Every bad line is reported by number, never with its value.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.h"

namespace villager::secrets {

// Pairs in file order. A repeated key, a bad name or a malformed line is an InvalidArgument naming
// "LABEL:LINE"; all problems are collected and returned at once.
Result<std::vector<std::pair<std::string, std::string>>> parse_dotenv(std::string_view text,
                                                                      const std::string& label);

}  // namespace villager::secrets
