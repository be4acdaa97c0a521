// canary_calibration: how often the canary judge fails a release that is as good as the one serving
// (false-fail rate, which should be at most alpha), and how often it catches real regressions (power),
// at the default sample size and over a range of sample sizes. Synthetic traffic with fixed seeds, so the
// figures repeat exactly; bench/canary_calibration.sh runs it. Each analysis is one call of
// analyze_canary() on freshly drawn baseline and candidate windows of n requests each.
//
// A second table runs whole canary steps as deploy runs them (cli/monitor_hooks.cc, StepJudge): the
// baseline is the serving release over one step_interval at full traffic, captured before anything moves;
// the candidate gets `weight` percent of the traffic, is first judged after step_interval and then again
// every 500 ms on its growing window until it passes, fails or reaches max_step_duration, where an
// inconclusive step is rolled back (on_inconclusive's default for production). These are the rates a
// user sees: every look is another chance to fail a good release (so the judge tests only at whole
// step_intervals, alpha divided over those looks), and "caught" is whatever does not
// reach 100%.
//
//   canary_calibration [ANALYSES [STEPS]]   (default 1000 analyses per cell, 500 whole steps per cell)

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

// `n` requests of release `r` recorded into `series`.
void add_requests(villager::monitor::Series& series, const Release& r, int n, std::mt19937_64& rng) {
  std::lognormal_distribution<double> latency(std::log(r.median_ms), r.sigma);
  std::uniform_real_distribution<double> u(0, 1);
  for (int i = 0; i < n; ++i) {
    double ms = latency(rng) * r.scale;
    if (u(rng) < r.tail_fraction) ms *= r.tail_factor;
    series.record(u(rng) < r.error_rate ? 500 : 200, static_cast<uint64_t>(ms * 1000), 0, 0);
  }
}

WindowStats draw(const Release& r, int n, std::mt19937_64& rng, const char* release) {
  villager::monitor::Series series({"bench", "svc", release});
  add_requests(series, r, n, rng);
  return WindowStats{series.counts(), {}};
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

// Whole steps (see the header): traffic at `rate` requests a second, the defaults' timing.
struct StepTiming {
  double rate = 20;  // requests a second to the service, all releases together
  int weight = 10;   // percent to the candidate
  // step_interval, the step's deadline (3 x step_interval) and the judge's poll: the defaults.
  villager::monitor::CanaryLooks looks{std::chrono::seconds(30), std::chrono::seconds(90),
                                       std::chrono::milliseconds(500)};
  bool spend = true;  // the judge's looks (false: a statistical fail at every poll, as before)
};

double seconds(villager::monitor::Millis m) {
  return m.count() / 1000.0;
}

struct StepRates {
  int fail = 0, rolled_back_inconclusive = 0, promoted = 0;
};

StepRates run_steps(const Scenario& sc, const StepTiming& t, int steps, const CanaryPolicy& policy,
                    uint64_t seed) {
  std::mt19937_64 rng(seed);
  const auto& L = t.looks;
  std::poisson_distribution<int> baseline_n(t.rate * seconds(L.interval));
  std::poisson_distribution<int> first_n(t.rate * t.weight / 100 * seconds(L.interval));
  std::poisson_distribution<int> per_poll(t.rate * t.weight / 100 * seconds(L.poll));
  StepRates out;
  for (int i = 0; i < steps; ++i) {
    villager::monitor::Series base({"bench", "svc", "base"}), cand({"bench", "svc", "cand"});
    add_requests(base, Release{}, baseline_n(rng), rng);
    WindowStats b{base.counts(), {}};
    add_requests(cand, sc.candidate, first_n(rng), rng);
    Verdict v = Verdict::kInconclusive;
    for (auto window = L.interval;; window += L.poll) {
      // As StepJudge (cli/monitor_hooks.cc): alpha divided over the looks; the gross rules fail at every
      // poll.
      const bool at_deadline = window >= L.deadline;
      CanaryPolicy spent = policy;
      if (t.spend) {
        spent.alpha = policy.alpha / L.looks();
        spent.test_look = L.is_look(window, at_deadline);
      }
      v = analyze_canary(b, WindowStats{cand.counts(), {}}, spent).verdict;
      if (v != Verdict::kInconclusive || at_deadline) break;
      add_requests(cand, sc.candidate, per_poll(rng), rng);
    }
    (v == Verdict::kFail ? out.fail : v == Verdict::kPass ? out.promoted : out.rolled_back_inconclusive)++;
  }
  return out;
}

void print_steps(const std::vector<Scenario>& scenarios, int steps, const CanaryPolicy& policy, bool spend) {
  std::printf(
      "\nwhole canary steps as deploy runs them: step_interval 30 s, max_step_duration 90 s, a poll every\n"
      "500 ms, candidate at 10%% of the traffic, baseline = the serving release over 30 s; %s;\n"
      "%d steps per cell. 'not promoted' = failed + inconclusive at the deadline (rolled back in\n"
      "production).\n\n",
      spend ? "statistical looks at 30, 60 and 90 s with alpha/3 each, gross rules at every poll"
            : "a statistical fail allowed at every poll (not the judge's rule; for comparison)",
      steps);
  const std::vector<double> rates = {2, 5, 20, 100};
  uint64_t seed = 1000;
  for (const auto& sc : scenarios) {
    std::printf("%s: %s by service traffic\n", sc.name,
                sc.regression ? "caught (not promoted)" : "good release not promoted");
    for (double rate : rates) {
      StepTiming t;
      t.rate = rate;
      t.spend = spend;
      StepRates r = run_steps(sc, t, steps, policy, seed++);
      int caught = r.fail + r.rolled_back_inconclusive;
      double lo, hi, flo, fhi;
      wilson(caught, steps, lo, hi);
      wilson(r.fail, steps, flo, fhi);
      std::printf(
          "  %5.0f req/s (candidate %4.0f at the first look)  not promoted %6.2f%% [%5.2f, %5.2f]  "
          "failed %6.2f%% [%5.2f, %5.2f]  inconclusive %6.2f%%  promoted %6.2f%%\n",
          rate, rate * t.weight / 100 * seconds(t.looks.interval), 100.0 * caught / steps, 100 * lo, 100 * hi,
          100.0 * r.fail / steps, 100 * flo, 100 * fhi, 100.0 * r.rolled_back_inconclusive / steps,
          100.0 * r.promoted / steps);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  const int analyses = argc > 1 ? std::atoi(argv[1]) : 1000;
  const int steps = argc > 2 ? std::atoi(argv[2]) : 500;
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
  // What a tighter latency limit buys (canary_max_latency_ratio = 1.2): the false-fail rate stays under
  // alpha (a fail still needs the U test), and a 1.5x regression becomes a breach.
  CanaryPolicy tight = policy;
  tight.max_latency_ratio = 1.2;
  std::printf("\nwith canary_max_latency_ratio = 1.2 (limit 1.2x + 25 ms):\n");
  for (int which : {0, 1}) {
    const Scenario& sc = scenarios[which];
    std::printf("%s: %s rate by samples per side\n", sc.name,
                sc.regression ? "detection (fail)" : "false-fail");
    for (int n : sizes) {
      Rates r = run(sc, n, analyses, tight, seed++);
      double lo, hi;
      wilson(r.fail, analyses, lo, hi);
      std::printf("  n=%-5d fail %6.2f%% [%5.2f, %5.2f]  inconclusive %6.2f%%  pass %6.2f%%\n", n,
                  100.0 * r.fail / analyses, 100 * lo, 100 * hi, 100.0 * r.inconclusive / analyses,
                  100.0 * r.pass / analyses);
    }
  }
  print_steps(scenarios, steps, policy, true);
  // The same steps with a statistical fail allowed at every poll: what the looks are for.
  if (std::getenv("CANARY_EVERY_POLL")) print_steps(scenarios, steps, policy, false);
  return 0;
}
