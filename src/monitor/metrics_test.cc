#include "monitor/metrics.h"

#include <gtest/gtest.h>

#include <thread>

#include "testutil/fake_clock.h"

namespace villager::monitor {
namespace {

using namespace std::chrono_literals;

TEST(MetricsRegistry, RecorderCountsPerReleaseAndClass) {
  FakeClock clock;
  MetricsRegistry reg(clock);
  auto rec = reg.recorder("prod", "user");
  rec->record("a", 200, 1000, 10, 20);
  rec->record("a", 503, 2000, 0, 5);
  rec->record("b", 404, 500, 0, 0);
  rec->record("a", 0, 1, 0, 0);  // a status outside 100..599 counts as 5xx
  auto all = reg.collect();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].first.release, "a");
  EXPECT_EQ(all[0].second.requests, 3u);
  EXPECT_EQ(all[0].second.classes[1], 1u);
  EXPECT_EQ(all[0].second.classes[4], 2u);
  EXPECT_EQ(all[0].second.bytes_in, 10u);
  EXPECT_EQ(all[0].second.bytes_out, 25u);
  EXPECT_EQ(all[0].second.latency_sum_us, 3001u);
  EXPECT_EQ(all[1].second.classes[3], 1u);
}

TEST(MetricsRegistry, WindowIsExactDifferenceOfSnapshots) {
  FakeClock clock;
  MetricsRegistry reg(clock, {1000ms, 60'000ms, 600});
  auto rec = reg.recorder("prod", "user");
  for (int i = 0; i < 10; ++i) rec->record("a", 500, 100'000, 0, 0);  // old, slow errors
  reg.tick();
  clock.advance(30s);
  reg.tick();
  for (int i = 0; i < 90; ++i) rec->record("a", 200, 1000, 0, 0);
  for (int i = 0; i < 10; ++i) rec->record("a", 500, 2000, 0, 0);
  clock.advance(10s);
  reg.tick();
  WindowStats w = reg.window("prod", "user", "a", 20s);
  EXPECT_EQ(w.counts.requests, 100u);
  EXPECT_EQ(w.errors_5xx(), 10u);
  EXPECT_DOUBLE_EQ(w.error_rate(), 0.1);
  EXPECT_NEAR(w.latency_quantile(0.5), 0.001, 0.001 * 0.01);
  EXPECT_NEAR(w.latency_quantile(0.99), 0.002, 0.002 * 0.01);
  EXPECT_EQ(w.covered, 20s);
  // A window reaching back before the first snapshot counts everything since the registry started.
  WindowStats all = reg.window("prod", "user", "", 5min);
  EXPECT_EQ(all.counts.requests, 110u);
  EXPECT_EQ(all.covered, 40s);
  EXPECT_EQ(reg.window("prod", "admin", "", 20s).counts.requests, 0u);
}

TEST(MetricsRegistry, ServiceWindowSumsReleases) {
  FakeClock clock;
  MetricsRegistry reg(clock);
  auto rec = reg.recorder("prod", "user");
  rec->record("a", 200, 10, 0, 0);
  rec->record("b", 500, 10, 0, 0);
  rec->record("", 503, 10, 0, 0);  // no upstream: no release's doing
  WindowStats w = reg.window("prod", "user", "", 1min);
  EXPECT_EQ(w.counts.requests, 2u);
  EXPECT_EQ(reg.window("prod", "user", "b", 1min).counts.requests, 1u);
  EXPECT_DOUBLE_EQ(w.error_rate(), 0.5);
}

TEST(MetricsRegistry, SnapshotMemoryIsBounded) {
  FakeClock clock;
  MetricsRegistry reg(clock, {1000ms, 60'000ms, 10});
  EXPECT_GE(reg.snapshot_interval(), 6000ms);
  auto rec = reg.recorder("prod", "user");
  for (int i = 0; i < 1000; ++i) {
    rec->record("a", 200, static_cast<uint64_t>(i), 0, 0);
    reg.tick();
    clock.advance(1s);
  }
  EXPECT_LE(reg.snapshots_kept(), 11u);
  // Still exact for a window inside the retention: 60 requests in the last 60 s (one per second).
  WindowStats w = reg.window("prod", "user", "a", 60s);
  EXPECT_GE(w.counts.requests, 60u);
  EXPECT_LE(w.counts.requests, 60u + 6u);  // the baseline is the newest snapshot at or before the start
}

TEST(Recorder, ManyThreadsCountEveryRequest) {
  FakeClock clock;
  MetricsRegistry reg(clock);
  auto rec = reg.recorder("prod", "user");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      std::string release = "r" + std::to_string(t % 2);
      for (int i = 0; i < 20'000; ++i) rec->record(release, 200, 100, 1, 1);
    });
  for (auto& t : threads) t.join();
  auto all = reg.collect();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].second.requests + all[1].second.requests, 80'000u);
  EXPECT_EQ(all[0].second.histogram().count(), 40'000u);
}

TEST(Recorder, MoreReleasesThanTheCacheStillCount) {
  FakeClock clock;
  MetricsRegistry reg(clock);
  auto rec = reg.recorder("prod", "user");
  for (size_t i = 0; i < Recorder::kCacheSize + 5; ++i) {
    rec->record("r" + std::to_string(i), 200, 1, 0, 0);
    rec->record("r" + std::to_string(i), 200, 1, 0, 0);
  }
  auto all = reg.collect();
  ASSERT_EQ(all.size(), Recorder::kCacheSize + 5);
  for (const auto& [k, c] : all) EXPECT_EQ(c.requests, 2u) << k.release;
}

}  // namespace
}  // namespace villager::monitor
