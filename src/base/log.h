#pragma once
// Daemon and diagnostic logging: one line per event, "ts level component event key=value ...".
// Every line passes through redact() before it is written, so a registered secret never reaches a log.

#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace villager {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

using LogField = std::pair<std::string_view, std::string>;

void log_event(LogLevel level, std::string_view component, std::string_view event,
               std::initializer_list<LogField> fields = {});
// Where lines go (default: stderr). The sink receives the full line without the trailing newline.
void set_log_sink(std::function<void(std::string_view)> sink);
void set_log_level(LogLevel level);
// Formats one line as log_event would (exposed for tests).
std::string format_log_line(LogLevel level, std::string_view component, std::string_view event,
                            std::initializer_list<LogField> fields);

}  // namespace villager
