#include "monitor/metrics.h"

#include <algorithm>

namespace villager::monitor {

namespace {
size_t class_index(int status) {
  if (status < 100 || status > 599) return 4;
  return static_cast<size_t>(status / 100 - 1);
}
}  // namespace

stats::Histogram SeriesCounts::histogram() const {
  stats::Histogram h;
  for (const auto& [index, count] : buckets) h.record_n(stats::layout::upper_bound(index), count);
  return h;
}

SeriesCounts SeriesCounts::minus(const SeriesCounts& older) const {
  SeriesCounts d;
  d.requests = requests - older.requests;
  for (size_t i = 0; i < classes.size(); ++i) d.classes[i] = classes[i] - older.classes[i];
  d.bytes_in = bytes_in - older.bytes_in;
  d.bytes_out = bytes_out - older.bytes_out;
  d.latency_sum_us = latency_sum_us - older.latency_sum_us;
  // Both lists are ascending; every bucket of `older` is also in `this` with a count at least as large.
  size_t j = 0;
  for (const auto& [index, count] : buckets) {
    while (j < older.buckets.size() && older.buckets[j].first < index) ++j;
    uint64_t before =
        (j < older.buckets.size() && older.buckets[j].first == index) ? older.buckets[j].second : 0;
    if (count > before) d.buckets.emplace_back(index, count - before);
  }
  return d;
}

void SeriesCounts::add(const SeriesCounts& o) {
  requests += o.requests;
  for (size_t i = 0; i < classes.size(); ++i) classes[i] += o.classes[i];
  bytes_in += o.bytes_in;
  bytes_out += o.bytes_out;
  latency_sum_us += o.latency_sum_us;
  std::vector<std::pair<uint32_t, uint64_t>> merged;
  merged.reserve(buckets.size() + o.buckets.size());
  size_t i = 0, j = 0;
  while (i < buckets.size() || j < o.buckets.size()) {
    if (j == o.buckets.size() || (i < buckets.size() && buckets[i].first < o.buckets[j].first)) {
      merged.push_back(buckets[i++]);
    } else if (i == buckets.size() || o.buckets[j].first < buckets[i].first) {
      merged.push_back(o.buckets[j++]);
    } else {
      merged.emplace_back(buckets[i].first, buckets[i].second + o.buckets[j].second);
      ++i;
      ++j;
    }
  }
  buckets = std::move(merged);
}

void Series::record(int status, uint64_t latency_us, uint64_t bytes_in, uint64_t bytes_out) {
  // The histogram first and the request count last, so a concurrent reader never sees more requests
  // than latencies (it may see a latency whose request is not yet counted).
  latency_.record(latency_us);
  classes_[class_index(status)].fetch_add(1, std::memory_order_relaxed);
  bytes_in_.fetch_add(bytes_in, std::memory_order_relaxed);
  bytes_out_.fetch_add(bytes_out, std::memory_order_relaxed);
  requests_.fetch_add(1, std::memory_order_relaxed);
}

SeriesCounts Series::counts() const {
  SeriesCounts c;
  c.requests = requests_.load(std::memory_order_relaxed);
  for (size_t i = 0; i < classes_.size(); ++i) c.classes[i] = classes_[i].load(std::memory_order_relaxed);
  c.bytes_in = bytes_in_.load(std::memory_order_relaxed);
  c.bytes_out = bytes_out_.load(std::memory_order_relaxed);
  stats::Histogram h = latency_.snapshot();
  c.latency_sum_us = static_cast<uint64_t>(h.mean() * static_cast<double>(h.count()) + 0.5);
  for (stats::Bucket b : h.buckets())
    c.buckets.emplace_back(static_cast<uint32_t>(stats::layout::index_of(b.upper)), b.count);
  return c;
}

double WindowStats::error_rate() const {
  return counts.requests ? static_cast<double>(counts.classes[4]) / static_cast<double>(counts.requests) : 0;
}

double WindowStats::latency_quantile(double q) const {
  if (counts.buckets.empty()) return 0;
  return static_cast<double>(counts.histogram().percentile(q)) / 1e6;
}

Recorder::Recorder(MetricsRegistry& registry, std::string environment, std::string service)
    : registry_(registry), environment_(std::move(environment)), service_(std::move(service)) {}

Recorder::~Recorder() {
  size_t n = cached_.load(std::memory_order_acquire);
  for (size_t i = 0; i < n; ++i) delete cache_[i].load(std::memory_order_relaxed);
}

Series* Recorder::lookup(std::string_view release) {
  size_t n = cached_.load(std::memory_order_acquire);
  for (size_t i = 0; i < n; ++i) {
    const Entry* e = cache_[i].load(std::memory_order_acquire);
    if (e->release == release) return e->series;
  }
  std::lock_guard lock(mu_);
  n = cached_.load(std::memory_order_relaxed);
  for (size_t i = 0; i < n; ++i) {
    const Entry* e = cache_[i].load(std::memory_order_relaxed);
    if (e->release == release) return e->series;
  }
  Series* s = registry_.series({environment_, service_, std::string(release)});
  if (n < kCacheSize) {
    // Publish the entry before the count, so a reader that sees the count sees the entry.
    cache_[n].store(new Entry{std::string(release), s}, std::memory_order_release);
    cached_.store(n + 1, std::memory_order_release);
  }
  return s;
}

void Recorder::record(std::string_view release, int status, uint64_t latency_us, uint64_t bytes_in,
                      uint64_t bytes_out) {
  lookup(release)->record(status, latency_us, bytes_in, bytes_out);
}

MetricsRegistry::MetricsRegistry(Clock& clock, RegistryOptions options)
    : clock_(clock), options_(options), started_(clock.steady_now()) {
  if (options_.max_snapshots < 2) options_.max_snapshots = 2;
  interval_ = std::max(options_.snapshot_interval,
                       Millis(options_.retention.count() / static_cast<int64_t>(options_.max_snapshots - 1)));
  if (interval_.count() <= 0) interval_ = Millis(1);
}

MetricsRegistry::~MetricsRegistry() = default;

Series* MetricsRegistry::series(const SeriesKey& key) {
  std::lock_guard lock(mu_);
  for (auto& s : series_)
    if (s->key() == key) return s.get();
  series_.push_back(std::make_unique<Series>(key));
  return series_.back().get();
}

std::unique_ptr<Recorder> MetricsRegistry::recorder(const std::string& environment,
                                                    const std::string& service) {
  return std::make_unique<Recorder>(*this, environment, service);
}

std::vector<std::pair<SeriesKey, SeriesCounts>> MetricsRegistry::collect() const {
  std::vector<std::pair<SeriesKey, SeriesCounts>> out;
  {
    std::lock_guard lock(mu_);
    for (const auto& s : series_) out.emplace_back(s->key(), s->counts());
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

void MetricsRegistry::tick() {
  SteadyTime now = clock_.steady_now();
  {
    std::lock_guard lock(mu_);
    if (!snapshots_.empty() && now - snapshots_.back().at < interval_) return;
  }
  Snapshot snap{now, collect()};
  std::lock_guard lock(mu_);
  snapshots_.push_back(std::move(snap));
  // Keep one snapshot older than the retention, so a full-length window always has a baseline.
  while (snapshots_.size() > options_.max_snapshots + 1 ||
         (snapshots_.size() > 1 && now - snapshots_[1].at >= options_.retention)) {
    snapshots_.pop_front();
    trimmed_ = true;
  }
}

size_t MetricsRegistry::snapshots_kept() const {
  std::lock_guard lock(mu_);
  return snapshots_.size();
}

SeriesCounts MetricsRegistry::sum_matching(const std::vector<std::pair<SeriesKey, SeriesCounts>>& all,
                                           const std::string& env, const std::string& service,
                                           const std::string& release) const {
  SeriesCounts sum;
  for (const auto& [key, counts] : all) {
    if (key.environment != env || key.service != service) continue;
    // A service's window sums its releases; requests no upstream took (release "") are left out: they
    // are no release's doing, and the availability probes see an outage.
    if (release.empty() ? key.release.empty() : key.release != release) continue;
    sum.add(counts);
  }
  return sum;
}

WindowStats MetricsRegistry::window(const std::string& environment, const std::string& service,
                                    const std::string& release, Millis window) const {
  SteadyTime now = clock_.steady_now();
  SteadyTime from = now - window;
  SeriesCounts current = sum_matching(collect(), environment, service, release);
  WindowStats w;
  std::lock_guard lock(mu_);
  // The newest snapshot taken at or before the window's start is the baseline.
  const Snapshot* base = nullptr;
  for (auto it = snapshots_.rbegin(); it != snapshots_.rend(); ++it) {
    if (it->at <= from) {
      base = &*it;
      break;
    }
  }
  if (base) {
    w.counts = current.minus(sum_matching(base->series, environment, service, release));
    w.covered = window;
  } else if (!trimmed_) {
    // Nothing is older than the window: everything since the registry started falls inside it.
    w.counts = current;
    w.covered = std::min(window, std::chrono::duration_cast<Millis>(now - started_));
  } else {
    const Snapshot& oldest = snapshots_.front();
    w.counts = current.minus(sum_matching(oldest.series, environment, service, release));
    w.covered = std::chrono::duration_cast<Millis>(now - oldest.at);
  }
  return w;
}

}  // namespace villager::monitor
