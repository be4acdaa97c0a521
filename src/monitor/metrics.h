#pragma once
// Request metrics per (environment, service, release), recorded at the edge proxy. The hot path is
// lock-free: a Recorder (one per proxy listener) finds a release's Series in a small append-only cache of
// atomic pointers and bumps relaxed atomic counters plus an AtomicHistogram; only the first request of a
// new release takes the registry's mutex. Windowed views ("the last W") are exact differences between
// the live counters and a periodic cumulative snapshot (tick()), with bounded memory.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "stats/histogram.h"

namespace villager::monitor {

using Millis = std::chrono::milliseconds;

struct SeriesKey {
  std::string environment;
  std::string service;
  std::string release;  // the proxy's release id; "" for requests no upstream took (503 with no route)
  bool operator==(const SeriesKey&) const = default;
  auto operator<=>(const SeriesKey&) const = default;
};

// Counter values of one series at one moment. classes[0] is 1xx ... classes[4] is 5xx; a status outside
// 100..599 counts as 5xx (the proxy never answers with one, so it means something broke).
struct SeriesCounts {
  uint64_t requests = 0;
  std::array<uint64_t, 5> classes{};
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  uint64_t latency_sum_us = 0;
  // Non-empty latency buckets as (bucket index, cumulative count), ascending by index.
  std::vector<std::pair<uint32_t, uint64_t>> buckets;

  // Builds a Histogram from `buckets` (each value at its bucket's upper bound).
  stats::Histogram histogram() const;
  // this - older (older must be an earlier snapshot of the same series, or zero).
  SeriesCounts minus(const SeriesCounts& older) const;
  void add(const SeriesCounts& other);
};

// One series' live counters. Thread-safe; record() never locks.
class Series {
 public:
  explicit Series(SeriesKey key) : key_(std::move(key)) {}
  void record(int status, uint64_t latency_us, uint64_t bytes_in, uint64_t bytes_out);
  SeriesCounts counts() const;
  const SeriesKey& key() const { return key_; }

 private:
  SeriesKey key_;
  std::atomic<uint64_t> requests_{0};
  std::array<std::atomic<uint64_t>, 5> classes_{};
  std::atomic<uint64_t> bytes_in_{0};
  std::atomic<uint64_t> bytes_out_{0};
  stats::AtomicHistogram latency_;
};

// A windowed view: what happened in [now - window, now] for one release or a whole service.
struct WindowStats {
  SeriesCounts counts;  // differences over the window
  Millis covered{0};    // how much of the window the snapshots could cover (<= window)
  uint64_t errors_5xx() const { return counts.classes[4]; }
  double error_rate() const;  // 5xx / requests; 0 with no requests
  // Latency quantile in seconds (q = 0.99 is p99); 0 with no requests.
  double latency_quantile(double q) const;
};

struct RegistryOptions {
  static constexpr Millis kDefaultSnapshotInterval{1000};
  static constexpr Millis kDefaultRetention{30 * 60 * 1000};
  static constexpr size_t kDefaultMaxSnapshots = 600;
  // How often tick() keeps a snapshot; raised automatically to retention / max_snapshots so memory
  // stays bounded (a 30 min retention keeps one snapshot every 3 s).
  Millis snapshot_interval = kDefaultSnapshotInterval;
  Millis retention = kDefaultRetention;  // the longest window anyone asks for (alarms, canary)
  size_t max_snapshots = kDefaultMaxSnapshots;
};

class MetricsRegistry;

// The proxy observer's side: one per listener (environment + service). record() is lock-free once a
// release has been seen; at most kCacheSize releases are cached, later ones take the registry's mutex.
class Recorder {
 public:
  static constexpr size_t kCacheSize = 16;
  Recorder(MetricsRegistry& registry, std::string environment, std::string service);
  ~Recorder();
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  void record(std::string_view release, int status, uint64_t latency_us, uint64_t bytes_in,
              uint64_t bytes_out);

 private:
  struct Entry {
    std::string release;
    Series* series;
  };
  Series* lookup(std::string_view release);

  MetricsRegistry& registry_;
  std::string environment_;
  std::string service_;
  std::array<std::atomic<const Entry*>, kCacheSize> cache_{};
  std::atomic<size_t> cached_{0};
  std::mutex mu_;  // serialises cache appends
};

// Every series, plus the snapshot ring for windows. Series are never removed, so a Series* stays valid
// for the registry's lifetime.
class MetricsRegistry {
 public:
  explicit MetricsRegistry(Clock& clock, RegistryOptions options = {});
  ~MetricsRegistry();

  // Finds or creates a series (takes the mutex).
  Series* series(const SeriesKey& key);
  std::unique_ptr<Recorder> recorder(const std::string& environment, const std::string& service);

  // Every series' key and current counts, sorted by key.
  std::vector<std::pair<SeriesKey, SeriesCounts>> collect() const;

  // Keeps a cumulative snapshot when snapshot_interval has passed since the last one. Call it often
  // (each alarm evaluation, or a 1 s timer); calling more often than the interval is cheap.
  void tick();

  // The last `window` for one release, or for every release of the service when release is empty (then
  // requests that no upstream took, release "", are not counted).
  WindowStats window(const std::string& environment, const std::string& service, const std::string& release,
                     Millis window) const;

  Millis snapshot_interval() const { return interval_; }
  size_t snapshots_kept() const;

 private:
  struct Snapshot {
    SteadyTime at;
    std::vector<std::pair<SeriesKey, SeriesCounts>> series;  // sorted by key
  };
  SeriesCounts sum_matching(const std::vector<std::pair<SeriesKey, SeriesCounts>>& all,
                            const std::string& env, const std::string& service,
                            const std::string& release) const;

  Clock& clock_;
  RegistryOptions options_;
  Millis interval_;
  SteadyTime started_;
  mutable std::mutex mu_;
  std::deque<std::unique_ptr<Series>> series_;  // Guarded by mu_ (the deque; Series are thread-safe).
  std::deque<Snapshot> snapshots_;              // Guarded by mu_. Oldest first.
  bool trimmed_ = false;                        // Guarded by mu_. True once a snapshot was dropped.
};

}  // namespace villager::monitor
