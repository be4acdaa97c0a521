#pragma once
// Log-linear latency histograms with fixed memory. Values are microseconds; every value from 0 to
// Histogram::kMaxValue (60 s) is kept with at most 1/128 (< 1%) relative error: values below 128 are
// exact, and each power-of-two range [2^k, 2^(k+1)) above is split into 128 equal sub-buckets. A larger
// value is clamped into the top bucket (max() still reports it exactly). Memory never grows with the
// number of values recorded, so a run of any length keeps a flat footprint.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <iterator>

namespace villager::stats {

// One non-empty bucket: every value counted in it was <= upper (microseconds).
struct Bucket {
  uint64_t upper = 0;
  uint64_t count = 0;
};

namespace layout {
inline constexpr int kSubBucketBits = 7;  // 128 sub-buckets per power of two
inline constexpr uint64_t kSubBuckets = 1u << kSubBucketBits;
inline constexpr uint64_t kMaxValue = 60'000'000;  // 60 s in microseconds
inline constexpr int kMaxMsb = 25;                 // 2^25 <= kMaxValue < 2^26
inline constexpr size_t kBucketCount = kSubBuckets + (kMaxMsb - kSubBucketBits + 1) * kSubBuckets;

// Index of the bucket holding `value` (already clamped to kMaxValue).
size_t index_of(uint64_t value);
// Smallest and largest value a bucket holds.
uint64_t lower_bound(size_t index);
uint64_t upper_bound(size_t index);
}  // namespace layout

// Single-threaded histogram. Copyable; merge() adds another histogram's counts.
class Histogram {
 public:
  static constexpr uint64_t kMaxValue = layout::kMaxValue;

  void record(uint64_t value_us) { record_n(value_us, 1); }
  void record_n(uint64_t value_us, uint64_t n);
  void merge(const Histogram& other);
  void reset();

  uint64_t count() const { return count_; }
  // min/max are exact (0 when empty); max may exceed kMaxValue when a larger value was recorded.
  uint64_t min() const { return count_ ? min_ : 0; }
  uint64_t max() const { return max_; }
  double mean() const { return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0; }
  // Standard deviation, from bucket midpoints (0 when fewer than two values).
  double stddev() const;
  // The value at quantile q in [0, 1] (q = 0.99 is p99): the upper bound of the bucket holding the
  // ceil(q * count)-th smallest value, never above max() nor below min(). 0 when empty.
  uint64_t percentile(double q) const;

  // Iterates over non-empty buckets in increasing order (for Prometheus `le` buckets).
  class BucketIterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = Bucket;
    using difference_type = std::ptrdiff_t;
    using pointer = const Bucket*;
    using reference = Bucket;

    BucketIterator(const Histogram* h, size_t index) : h_(h), index_(index) { skip_empty(); }
    Bucket operator*() const { return {layout::upper_bound(index_), h_->counts_[index_]}; }
    BucketIterator& operator++() {
      ++index_;
      skip_empty();
      return *this;
    }
    bool operator==(const BucketIterator& o) const { return index_ == o.index_; }
    bool operator!=(const BucketIterator& o) const { return index_ != o.index_; }

   private:
    void skip_empty() {
      while (index_ < layout::kBucketCount && h_->counts_[index_] == 0) ++index_;
    }
    const Histogram* h_;
    size_t index_;
  };
  struct BucketRange {
    const Histogram* h;
    BucketIterator begin() const { return BucketIterator(h, 0); }
    BucketIterator end() const { return BucketIterator(h, layout::kBucketCount); }
  };
  BucketRange buckets() const { return BucketRange{this}; }

 private:
  friend class AtomicHistogram;
  std::array<uint64_t, layout::kBucketCount> counts_{};
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
};

// The same bucket layout with relaxed atomic counters, so several threads (the proxy's sessions) can
// record at once without a lock. snapshot() is not a consistent cut across buckets while recording
// continues, but every record is counted exactly once; totals are exact once recorders have stopped.
class AtomicHistogram {
 public:
  void record(uint64_t value_us);
  Histogram snapshot() const;
  void reset();

 private:
  std::array<std::atomic<uint64_t>, layout::kBucketCount> counts_{};
  std::atomic<uint64_t> sum_{0};
  std::atomic<uint64_t> min_{UINT64_MAX};
  std::atomic<uint64_t> max_{0};
};

}  // namespace villager::stats
