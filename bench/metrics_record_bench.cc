// metrics_record_bench: nanoseconds per Recorder::record on one thread, the monitor's whole cost per
// proxied request (bench/proxy_metrics.sh measures it end to end, with the noise of a shared machine).

#include <chrono>
#include <cstdio>

#include "base/clock.h"
#include "monitor/metrics.h"

int main() {
  villager::monitor::MetricsRegistry registry(villager::real_clock());
  auto rec = registry.recorder("bench", "bench");
  constexpr int kRecords = 10'000'000;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kRecords; ++i) rec->record("sha256-bench", 200, 100 + (i & 1023), 0, 3);
  auto t1 = std::chrono::steady_clock::now();
  std::printf("%.1f ns per record (%d records)\n",
              std::chrono::duration<double, std::nano>(t1 - t0).count() / kRecords, kRecords);
  return 0;
}
