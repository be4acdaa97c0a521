// canary_calibration: how often the canary judge fails a release that is as good as the one serving
// (false-fail rate, which should be at most alpha), and how often it catches real regressions (power),
// at the default sample size and over a range of sample sizes. Synthetic traffic with fixed seeds, so the
// figures repeat exactly; bench/canary_calibration.sh runs it. Each analysis is one call of
// analyze_canary() on freshly drawn baseline and candidate windows of n requests each.
//
//   canary_calibration [ANALYSES]   (default 1000 per scenario and sample size)

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "base/clock.h"
#include "monitor/canary.h"
#include "monitor/metrics.h"

namespace {

using villager::monitor::analyze_canary;
using villager::monitor::CanaryPolicy;
using villager::monitor::Verdict;
using villager::monitor::WindowStats;

// A release's traffic: lognormal latency (median, sigma of log), a fraction of it `tail_factor` slower,
// and 5xx at `error_rate`.
struct Release {
  double median_ms = 40;
  double sigma = 0.5;
  double scale = 1;  // every latency multiplied
  double tail_fraction = 0, tail_factor = 1;
  double error_rate = 0.01;
};

struct Scenario {
  const char* name;
  Release candidate;
  bool regression;  // false: identical releases (the false-fail rate)
};

WindowStats draw(const Release& r, int n, std::mt19937_64& rng, const char* release) {
  villager::monitor::MetricsRegistry registry(villager::real_clock());
  auto rec = registry.recorder("bench", "svc");
  std::lognormal_distribution<double> latency(std::log(r.median_ms), r.sigma);
  std::uniform_real_distribution<double> u(0, 1);
  for (int i = 0; i < n; ++i) {
    double ms = latency(rng) * r.scale;
    if (u(rng) < r.tail_fraction) ms *= r.tail_factor;
    int status = u(rng) < r.error_rate ? 500 : 200;
    rec->record(release, status, static_cast<uint64_t>(ms * 1000), 0, 0);
  }
  return registry.window("bench", "svc", release, std::chrono::minutes(10));
}

// Wilson score interval for k of n at 95%.
void wilson(int k, int n, double& lo, double& hi) {
  const double z = 1.96, p = double(k) / n;
  double d = 1 + z * z / n, c = p + z * z / (2 * n),
         s = z * std::sqrt(p * (1 - p) / n + z * z / (4.0 * n * n));
  lo = (c - s) / d;
  hi = (c + s) / d;
}

struct Rates {
  int fail = 0, inconclusive = 0, pass = 0;
};

Rates run(const Scenario& sc, int n, int analyses, const CanaryPolicy& policy, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Rates r;
  for (int i = 0; i < analyses; ++i) {
    WindowStats base = draw(Release{}, n, rng, "base");
    WindowStats cand = draw(sc.candidate, n, rng, "cand");
    Verdict v = analyze_canary(base, cand, policy).verdict;
    (v == Verdict::kFail ? r.fail : v == Verdict::kPass ? r.pass : r.inconclusive)++;
  }
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  const int analyses = argc > 1 ? std::atoi(argv[1]) : 1000;
  CanaryPolicy policy;  // the defaults a user gets
  Release slower = {};
  slower.scale = 1.5;
  Release much_slower = {};
  much_slower.scale = 2;
  Release tail = {};
  tail.tail_fraction = 0.05;
  tail.tail_factor = 4;
  Release errors2 = {};
  errors2.error_rate = 0.03;
  Release errors5 = {};
  errors5.error_rate = 0.06;
  const std::vector<Scenario> scenarios = {
      {"identical releases", Release{}, false},
      {"every latency 1.5x (p50 and p99 1.5x)", slower, true},
      {"every latency 2x", much_slower, true},
      {"5% of requests 4x slower (p99 ~2.5x)", tail, true},
      {"error rate +2 points (1% -> 3%)", errors2, true},
      {"error rate +5 points (1% -> 6%)", errors5, true},
  };
  std::printf("canary judge calibration: baseline lognormal latency (median 40 ms, sigma 0.5), 1%% 5xx;\n");
  std::printf(
      "defaults: alpha %.2f, min_samples %llu, latency limit %.2fx + %.0f ms, error limit +%.0f points\n",
      policy.alpha, static_cast<unsigned long long>(policy.min_samples), policy.max_latency_ratio,
      policy.latency_slack_seconds * 1000, policy.max_error_rate_increase * 100);
  std::printf("%d analyses per cell; rates with 95%% Wilson intervals\n\n", analyses);

  const std::vector<int> sizes = {20, 50, 100, 200, 500, 1000};
  uint64_t seed = 1;
  for (const auto& sc : scenarios) {
    std::printf("%s: %s rate by samples per side\n", sc.name,
                sc.regression ? "detection (fail)" : "false-fail");
    for (int n : sizes) {
      Rates r = run(sc, n, analyses, policy, seed++);
      double lo, hi;
      wilson(r.fail, analyses, lo, hi);
      std::printf("  n=%-5d fail %6.2f%% [%5.2f, %5.2f]  inconclusive %6.2f%%  pass %6.2f%%%s\n", n,
                  100.0 * r.fail / analyses, 100 * lo, 100 * hi, 100.0 * r.inconclusive / analyses,
                  100.0 * r.pass / analyses, n == int(policy.min_samples) ? "   <- default min_samples" : "");
    }
  }
  return 0;
}
