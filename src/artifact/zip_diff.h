#pragma once
// Entry-by-entry comparison of two zips, for `villager package --check`: names the first difference.

#include <optional>
#include <string>
#include <string_view>

#include "base/error.h"

namespace villager::artifact {

// Empty when both zips hold the same entries in the same order with the same metadata and content,
// else one line naming the first differing entry and what differs ("entry 3 'bin/app': mode 0755 vs 0644").
// When every entry matches but the bytes still differ, says so ("zip metadata differs").
Result<std::optional<std::string>> first_zip_difference(std::string_view a, std::string_view b);

}  // namespace villager::artifact
