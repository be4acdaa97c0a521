#include "stats/histogram.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <thread>
#include <vector>

namespace villager::stats {
namespace {

TEST(Histogram, RelativeErrorBelowOnePercentAcrossTheRange) {
  // Every value from 1 us to 60 s (stepping geometrically so the test stays fast) must come back as a
  // bucket upper bound within 1% of itself.
  for (double v = 1; v <= Histogram::kMaxValue; v *= 1.0037) {
    uint64_t value = static_cast<uint64_t>(v);
    size_t i = layout::index_of(value);
    ASSERT_LT(i, layout::kBucketCount);
    ASSERT_LE(layout::lower_bound(i), value);
    ASSERT_GE(layout::upper_bound(i), value);
    double err = static_cast<double>(layout::upper_bound(i) - value) / static_cast<double>(value);
    ASSERT_LT(err, 0.01) << "value " << value;
  }
  EXPECT_LT(layout::index_of(Histogram::kMaxValue), layout::kBucketCount);
}

TEST(Histogram, BucketsAreContiguous) {
  for (size_t i = 1; i < layout::kBucketCount; ++i)
    ASSERT_EQ(layout::upper_bound(i - 1) + 1, layout::lower_bound(i)) << "bucket " << i;
}

TEST(Histogram, PercentilesOfUniformDistribution) {
  Histogram h;
  for (uint64_t v = 1; v <= 10000; ++v) h.record(v);
  EXPECT_EQ(h.count(), 10000u);
  EXPECT_EQ(h.min(), 1u);
  EXPECT_EQ(h.max(), 10000u);
  EXPECT_NEAR(h.mean(), 5000.5, 0.01);
  EXPECT_NEAR(h.stddev(), 2886.75, 30);
  for (double q : {0.5, 0.75, 0.9, 0.99, 0.999}) {
    double want = q * 10000;
    EXPECT_NEAR(static_cast<double>(h.percentile(q)), want, want * 0.01) << "q " << q;
  }
  EXPECT_EQ(h.percentile(1.0), 10000u);
  EXPECT_EQ(h.percentile(0.0), 1u);
}

TEST(Histogram, PercentilesOfBimodalDistribution) {
  // 99% fast (100 us), 1% stalled (2 s): p99 is still fast, p99.9 shows the stall.
  Histogram h;
  h.record_n(100, 9900);
  h.record_n(2'000'000, 100);
  EXPECT_EQ(h.percentile(0.5), 100u);
  EXPECT_EQ(h.percentile(0.99), 100u);
  EXPECT_NEAR(static_cast<double>(h.percentile(0.999)), 2e6, 2e4);
  EXPECT_EQ(h.max(), 2'000'000u);
}

TEST(Histogram, PercentilesOfExponentialDistribution) {
  std::mt19937_64 rng(42);
  std::exponential_distribution<double> dist(1.0 / 1000);  // mean 1 ms
  Histogram h;
  std::vector<uint64_t> all;
  for (int i = 0; i < 200000; ++i) {
    uint64_t v = static_cast<uint64_t>(dist(rng)) + 1;
    h.record(v);
    all.push_back(v);
  }
  std::sort(all.begin(), all.end());
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    double exact = static_cast<double>(all[static_cast<size_t>(std::ceil(q * all.size())) - 1]);
    EXPECT_NEAR(static_cast<double>(h.percentile(q)), exact, exact * 0.01) << "q " << q;
  }
}

TEST(Histogram, ValuesAboveRangeAreClampedButMaxIsExact) {
  Histogram h;
  h.record(Histogram::kMaxValue * 10);
  EXPECT_EQ(h.count(), 1u);
  EXPECT_EQ(h.max(), Histogram::kMaxValue * 10);
  EXPECT_EQ(h.percentile(0.5), Histogram::kMaxValue * 10);
}

TEST(Histogram, MergeAddsCountsAndKeepsExtremes) {
  Histogram a, b;
  a.record_n(50, 10);
  b.record_n(5000, 30);
  b.record(3);
  a.merge(b);
  EXPECT_EQ(a.count(), 41u);
  EXPECT_EQ(a.min(), 3u);
  EXPECT_EQ(a.max(), 5000u);
  EXPECT_NEAR(static_cast<double>(a.percentile(0.5)), 5000, 50);
  EXPECT_EQ(a.percentile(0.2), 50u);
  a.reset();
  EXPECT_EQ(a.count(), 0u);
  EXPECT_EQ(a.max(), 0u);
  EXPECT_EQ(a.percentile(0.5), 0u);
}

TEST(Histogram, IteratesNonEmptyBucketsInOrder) {
  Histogram h;
  h.record(5);
  h.record(5);
  h.record(1000);
  h.record(1'000'000);
  std::vector<Bucket> got(h.buckets().begin(), h.buckets().end());
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].upper, 5u);
  EXPECT_EQ(got[0].count, 2u);
  EXPECT_GE(got[1].upper, 1000u);
  EXPECT_LT(got[1].upper, 1010u);
  EXPECT_GE(got[2].upper, 1'000'000u);
  EXPECT_EQ(got[2].count, 1u);
  Histogram empty;
  EXPECT_TRUE(empty.buckets().begin() == empty.buckets().end());
}

TEST(AtomicHistogram, ConcurrentRecordingCountsEveryValue) {
  AtomicHistogram h;
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&h, t] {
      for (int i = 0; i < kPerThread; ++i) h.record(static_cast<uint64_t>(1 + (i % 1000) + t));
    });
  for (auto& th : threads) th.join();
  Histogram s = h.snapshot();
  EXPECT_EQ(s.count(), uint64_t{kThreads} * kPerThread);
  EXPECT_EQ(s.min(), 1u);
  EXPECT_EQ(s.max(), 1000u + kThreads - 1);
  uint64_t total = 0;
  for (Bucket b : s.buckets()) total += b.count;
  EXPECT_EQ(total, s.count());
  h.reset();
  EXPECT_EQ(h.snapshot().count(), 0u);
}

TEST(AtomicHistogram, SnapshotMatchesPlainHistogram) {
  AtomicHistogram a;
  Histogram p;
  for (uint64_t v : {1u, 17u, 130u, 4096u, 99999u, 59'000'000u}) {
    a.record(v);
    p.record(v);
  }
  Histogram s = a.snapshot();
  for (double q : {0.1, 0.5, 0.9, 1.0}) EXPECT_EQ(s.percentile(q), p.percentile(q));
  EXPECT_DOUBLE_EQ(s.mean(), p.mean());
}

}  // namespace
}  // namespace villager::stats
