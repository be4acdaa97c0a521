#include "base/clock.h"

#include <cstdio>
#include <ctime>
#include <thread>

namespace villager {

namespace {
class RealClock : public Clock {
 public:
  SystemTime now() override { return std::chrono::system_clock::now(); }
  SteadyTime steady_now() override { return std::chrono::steady_clock::now(); }
  void sleep_for(std::chrono::milliseconds d) override { std::this_thread::sleep_for(d); }
};
}  // namespace

Clock& real_clock() {
  static RealClock clock;
  return clock;
}

std::string format_rfc3339(SystemTime t) {
  int64_t ms = unix_millis(t);
  time_t secs = static_cast<time_t>(ms / 1000);
  if (ms < 0 && ms % 1000) --secs;
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(((ms % 1000) + 1000) % 1000));
  return buf;
}

Result<SystemTime> parse_rfc3339(const std::string& text) {
  struct tm tm = {};
  int millis = 0;
  int y, mo, d, h, mi, s;
  char frac[16] = {0};
  int n = std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%15[0-9]Z", &y, &mo, &d, &h, &mi, &s, frac);
  if (n < 6)
    return InvalidArgument("bad timestamp '" + text + "' (expected RFC 3339 UTC, e.g. 2026-01-02T03:04:05Z)");
  if (n == 7) {
    std::string f = std::string(frac).substr(0, 3);
    while (f.size() < 3) f.push_back('0');
    millis = std::stoi(f);
  }
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  time_t secs = timegm(&tm);
  return from_unix_millis(static_cast<int64_t>(secs) * 1000 + millis);
}

int64_t unix_millis(SystemTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
SystemTime from_unix_millis(int64_t ms) {
  return SystemTime(std::chrono::milliseconds(ms));
}

}  // namespace villager
