#pragma once
// String helpers used everywhere: splitting, trimming, suggestions, encodings and durations.

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace villager {

std::vector<std::string> split(std::string_view s, char sep);
std::string_view trim(std::string_view s);
std::string join(const std::vector<std::string>& parts, std::string_view sep);
std::string to_lower(std::string_view s);
bool starts_with(std::string_view s, std::string_view prefix);
bool ends_with(std::string_view s, std::string_view suffix);
std::string replace_all(std::string s, std::string_view from, std::string_view to);

// Levenshtein distance, for "did you mean" suggestions.
size_t edit_distance(std::string_view a, std::string_view b);
// The candidate closest to `word` if it is close enough to be a plausible typo, else empty.
std::string suggest(std::string_view word, const std::vector<std::string>& candidates);

std::string hex_encode(std::string_view bytes);
Result<std::string> hex_decode(std::string_view hex);
std::string base64_encode(std::string_view bytes);
std::string base64url_encode(std::string_view bytes);  // no padding
Result<std::string> base64_decode(std::string_view b64);

// Durations like "500ms", "30s", "30m", "1h30m", "2d". A bare number is rejected: units are required.
Result<std::chrono::milliseconds> parse_duration(std::string_view text);
// Shortest readable form: "1h30m", "250ms", "0s".
std::string format_duration(std::chrono::milliseconds d);

// Quotes a string for JSON or a shell-free log (escapes control characters, quotes and backslashes).
std::string quote(std::string_view s);

}  // namespace villager
