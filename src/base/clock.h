#pragma once
// Time behind an interface so tests can use a FakeClock (src/testutil) and never sleep for timeouts.

#include <chrono>
#include <string>

#include "base/error.h"

namespace villager {

using SystemTime = std::chrono::system_clock::time_point;
using SteadyTime = std::chrono::steady_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual SystemTime now() = 0;
  virtual SteadyTime steady_now() = 0;
  virtual void sleep_for(std::chrono::milliseconds d) = 0;
};

// The real clock; one instance for the process.
Clock& real_clock();

// "2026-11-27T12:07:48.123Z" (UTC, milliseconds).
std::string format_rfc3339(SystemTime t);
Result<SystemTime> parse_rfc3339(const std::string& text);
int64_t unix_millis(SystemTime t);
SystemTime from_unix_millis(int64_t ms);

}  // namespace villager
