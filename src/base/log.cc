#include "base/log.h"

#include <cstdio>
#include <mutex>

#include "base/clock.h"
#include "base/redact.h"
#include "base/strings.h"

namespace villager {

namespace {
struct LogState {
  std::mutex mu;
  std::function<void(std::string_view)> sink;  // Guarded by mu.
  LogLevel level = LogLevel::kInfo;
};
LogState& state() {
  static LogState s;
  return s;
}
const char* level_name(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}
bool needs_quotes(std::string_view v) {
  if (v.empty()) return true;
  for (unsigned char c : v)
    if (c <= ' ' || c == '"' || c == '=' || c >= 0x7f) return true;
  return false;
}
}  // namespace

std::string format_log_line(LogLevel level, std::string_view component, std::string_view event,
                            std::initializer_list<LogField> fields) {
  std::string line = format_rfc3339(real_clock().now());
  line += ' ';
  line += level_name(level);
  line += ' ';
  line += component;
  line += ' ';
  line += event;
  for (const auto& [k, v] : fields) {
    line += ' ';
    line += k;
    line += '=';
    line += needs_quotes(v) ? quote(v) : v;
  }
  return redact(line);
}

void log_event(LogLevel level, std::string_view component, std::string_view event,
               std::initializer_list<LogField> fields) {
  auto& s = state();
  if (level < s.level) return;
  std::string line = format_log_line(level, component, event, fields);
  std::lock_guard lock(s.mu);
  if (s.sink) {
    s.sink(line);
  } else {
    line.push_back('\n');
    std::fwrite(line.data(), 1, line.size(), stderr);
  }
}

void set_log_sink(std::function<void(std::string_view)> sink) {
  std::lock_guard lock(state().mu);
  state().sink = std::move(sink);
}

void set_log_level(LogLevel level) {
  state().level = level;
}

}  // namespace villager
