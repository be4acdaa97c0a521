#include "stats/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace villager::stats {

namespace layout {

size_t index_of(uint64_t value) {
  if (value < kSubBuckets) return static_cast<size_t>(value);
  int msb = 63 - std::countl_zero(value);
  int shift = msb - kSubBucketBits;
  uint64_t sub = (value >> shift) - kSubBuckets;  // 0..127 within [2^msb, 2^(msb+1))
  return static_cast<size_t>(kSubBuckets + static_cast<uint64_t>(shift) * kSubBuckets + sub);
}

uint64_t lower_bound(size_t index) {
  if (index < kSubBuckets) return index;
  uint64_t shift = (index - kSubBuckets) / kSubBuckets;
  uint64_t sub = (index - kSubBuckets) % kSubBuckets;
  return (kSubBuckets + sub) << shift;
}

uint64_t upper_bound(size_t index) {
  if (index < kSubBuckets) return index;
  uint64_t shift = (index - kSubBuckets) / kSubBuckets;
  return lower_bound(index) + (uint64_t{1} << shift) - 1;
}

}  // namespace layout

void Histogram::record_n(uint64_t value_us, uint64_t n) {
  if (n == 0) return;
  counts_[layout::index_of(std::min(value_us, kMaxValue))] += n;
  count_ += n;
  sum_ += value_us * n;
  min_ = std::min(min_, value_us);
  max_ = std::max(max_, value_us);
}

void Histogram::merge(const Histogram& other) {
  for (size_t i = 0; i < layout::kBucketCount; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

void Histogram::reset() {
  *this = Histogram();
}

double Histogram::stddev() const {
  if (count_ < 2) return 0;
  double m = mean();
  double acc = 0;
  for (size_t i = 0; i < layout::kBucketCount; ++i) {
    if (!counts_[i]) continue;
    double mid =
        (static_cast<double>(layout::lower_bound(i)) + static_cast<double>(layout::upper_bound(i))) / 2;
    acc += static_cast<double>(counts_[i]) * (mid - m) * (mid - m);
  }
  return std::sqrt(acc / static_cast<double>(count_));
}

uint64_t Histogram::percentile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  // Rank of the wanted value, 1-based: the smallest value has rank 1.
  uint64_t rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (size_t i = 0; i < layout::kBucketCount; ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::clamp(layout::upper_bound(i), min(), max_);
  }
  return max_;
}

void AtomicHistogram::record(uint64_t value_us) {
  counts_[layout::index_of(std::min(value_us, layout::kMaxValue))].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value_us, std::memory_order_relaxed);
  uint64_t cur = min_.load(std::memory_order_relaxed);
  while (value_us < cur && !min_.compare_exchange_weak(cur, value_us, std::memory_order_relaxed)) {
  }
  cur = max_.load(std::memory_order_relaxed);
  while (value_us > cur && !max_.compare_exchange_weak(cur, value_us, std::memory_order_relaxed)) {
  }
}

Histogram AtomicHistogram::snapshot() const {
  Histogram h;
  for (size_t i = 0; i < layout::kBucketCount; ++i) {
    h.counts_[i] = counts_[i].load(std::memory_order_relaxed);
    h.count_ += h.counts_[i];
  }
  h.sum_ = sum_.load(std::memory_order_relaxed);
  h.min_ = min_.load(std::memory_order_relaxed);
  h.max_ = max_.load(std::memory_order_relaxed);
  return h;
}

void AtomicHistogram::reset() {
  for (auto& c : counts_) c.store(0, std::memory_order_relaxed);
  sum_.store(0, std::memory_order_relaxed);
  min_.store(UINT64_MAX, std::memory_order_relaxed);
  max_.store(0, std::memory_order_relaxed);
}

}  // namespace villager::stats
