#pragma once
// A short line diff for drift reports: the changed lines of `before` (-) and `after` (+), each hunk
// headed by "@@ line N @@" (N counted in `after`) with one line of context around it, cut after
// `max_lines` output lines ("... (K more changed lines)"). Internal to the ci module.

#include <cstddef>
#include <string>

namespace villager::ci {

std::string line_diff(const std::string& before, const std::string& after, size_t max_lines = 40);

}  // namespace villager::ci
