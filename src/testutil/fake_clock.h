#pragma once
// FakeClock: time that moves only when a test says so. sleep_for advances it instantly.

#include <mutex>

#include "base/clock.h"

namespace villager {

class FakeClock : public Clock {
 public:
  explicit FakeClock(SystemTime start = from_unix_millis(1'790'000'000'000)) : now_(start) {}
  SystemTime now() override;
  SteadyTime steady_now() override;
  void sleep_for(std::chrono::milliseconds d) override { advance(d); }
  void advance(std::chrono::milliseconds d);

 private:
  std::mutex mu_;
  SystemTime now_;                        // Guarded by mu_.
  std::chrono::milliseconds elapsed_{0};  // Guarded by mu_.
};

}  // namespace villager
