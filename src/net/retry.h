#pragma once
// Retrying an operation with exponential backoff, bounded by a number of attempts and a deadline, on an
// injectable Clock (tests use FakeClock and never sleep).

#include <algorithm>
#include <chrono>
#include <functional>

#include "base/clock.h"
#include "base/error.h"

namespace villager::net {

struct RetryPolicy {
  int max_attempts = 3;                            // 1 = no retry
  std::chrono::milliseconds initial_backoff{100};  // wait before the 2nd attempt
  double multiplier = 2.0;                         // each wait is the previous times this
  std::chrono::milliseconds max_backoff{2000};     // cap on one wait
  std::chrono::milliseconds deadline{0};           // 0: none; else no attempt starts after it
};

// A fixed interval until a deadline: the health check's "every 500ms for up to 30s".
inline RetryPolicy every_until(std::chrono::milliseconds interval, std::chrono::milliseconds deadline) {
  return RetryPolicy{1 << 30, interval, 1.0, interval, deadline};
}

// Calls `attempt` until `done(result)` is true, attempts run out, or the next attempt would start
// after the deadline; returns the last result. `attempts_made` (optional) receives the count.
template <class T>
T retry(Clock& clock, const RetryPolicy& policy, const std::function<T()>& attempt,
        const std::function<bool(const T&)>& done, int* attempts_made = nullptr) {
  const auto start = clock.steady_now();
  auto wait = policy.initial_backoff;
  int n = 0;
  for (;;) {
    T result = attempt();
    ++n;
    if (attempts_made) *attempts_made = n;
    if (done(result) || n >= policy.max_attempts) return result;
    auto next_start = clock.steady_now() + wait;
    if (policy.deadline.count() > 0 && next_start - start > policy.deadline) return result;
    clock.sleep_for(wait);
    wait = std::min(policy.max_backoff,
                    std::chrono::milliseconds(static_cast<long long>(wait.count() * policy.multiplier)));
  }
}

}  // namespace villager::net
