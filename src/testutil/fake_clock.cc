#include "testutil/fake_clock.h"

namespace villager {

SystemTime FakeClock::now() {
  std::lock_guard lock(mu_);
  return now_;
}

SteadyTime FakeClock::steady_now() {
  std::lock_guard lock(mu_);
  return SteadyTime(elapsed_);
}

void FakeClock::advance(std::chrono::milliseconds d) {
  std::lock_guard lock(mu_);
  now_ += d;
  elapsed_ += d;
}

}  // namespace villager
