#include "net/retry.h"

#include <gtest/gtest.h>

#include "testutil/fake_clock.h"

namespace villager::net {

using std::chrono::milliseconds;

TEST(Retry, StopsAtFirstSuccess) {
  FakeClock clock;
  int calls = 0, made = 0;
  int r = retry<int>(
      clock, RetryPolicy{5, milliseconds(100), 2.0, milliseconds(2000), milliseconds(0)},
      [&] { return ++calls; }, [](const int& v) { return v == 3; }, &made);
  EXPECT_EQ(r, 3);
  EXPECT_EQ(made, 3);
}

TEST(Retry, BacksOffExponentiallyUpToTheCap) {
  FakeClock clock;
  auto t0 = clock.steady_now();
  std::vector<long long> starts;
  RetryPolicy p{5, milliseconds(100), 2.0, milliseconds(300), milliseconds(0)};
  retry<int>(
      clock, p,
      [&] {
        starts.push_back(std::chrono::duration_cast<milliseconds>(clock.steady_now() - t0).count());
        return 0;
      },
      [](const int&) { return false; });
  // Waits 100, 200, 300 (capped), 300.
  EXPECT_EQ(starts, (std::vector<long long>{0, 100, 300, 600, 900}));
}

TEST(Retry, NoAttemptStartsAfterTheDeadline) {
  FakeClock clock;
  int made = 0;
  retry<int>(
      clock, every_until(milliseconds(500), milliseconds(2000)), [] { return 0; },
      [](const int&) { return false; }, &made);
  // Attempts at 0, 500, 1000, 1500, 2000.
  EXPECT_EQ(made, 5);
}

}  // namespace villager::net
