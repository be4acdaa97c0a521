#include "monitor/canary.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace villager::monitor {

std::string_view to_string(Verdict v) {
  switch (v) {
    case Verdict::kPass:
      return "pass";
    case Verdict::kFail:
      return "fail";
    case Verdict::kInconclusive:
      return "inconclusive";
  }
  return "inconclusive";
}

namespace {

// Groups of tied values in ascending order: (count in a, count in b) per distinct value.
struct TieGroup {
  double a = 0, b = 0;
};

MannWhitney from_groups(const std::vector<TieGroup>& groups) {
  MannWhitney r;
  double n1 = 0, n2 = 0;
  for (const auto& g : groups) {
    n1 += g.a;
    n2 += g.b;
  }
  r.n1 = static_cast<uint64_t>(n1);
  r.n2 = static_cast<uint64_t>(n2);
  if (n1 == 0 || n2 == 0) return r;
  double n = n1 + n2;
  double rank_sum_a = 0, seen = 0, tie_term = 0;
  for (const auto& g : groups) {
    double t = g.a + g.b;
    if (t == 0) continue;
    double avg_rank = seen + (t + 1) / 2;  // ranks seen+1 .. seen+t share their mean
    rank_sum_a += g.a * avg_rank;
    tie_term += t * t * t - t;
    seen += t;
  }
  r.u = rank_sum_a - n1 * (n1 + 1) / 2;
  double mean = n1 * n2 / 2;
  double var = n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1)));
  if (var <= 0) {  // every value tied: no evidence either way
    r.z = 0;
    r.p_greater = 0.5;
    return r;
  }
  r.z = (r.u - mean) / std::sqrt(var);
  r.p_greater = 0.5 * std::erfc(r.z / std::sqrt(2.0));
  return r;
}

}  // namespace

MannWhitney mann_whitney(std::vector<double> a, std::vector<double> b) {
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  std::vector<TieGroup> groups;
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    double v = (j == b.size() || (i < a.size() && a[i] <= b[j])) ? a[i] : b[j];
    TieGroup g;
    while (i < a.size() && a[i] == v) ++i, g.a += 1;
    while (j < b.size() && b[j] == v) ++j, g.b += 1;
    groups.push_back(g);
  }
  return from_groups(groups);
}

MannWhitney mann_whitney(const stats::Histogram& a, const stats::Histogram& b) {
  std::vector<std::pair<uint64_t, TieGroup>> by_upper;
  for (stats::Bucket x : a.buckets()) by_upper.push_back({x.upper, {static_cast<double>(x.count), 0}});
  for (stats::Bucket x : b.buckets()) by_upper.push_back({x.upper, {0, static_cast<double>(x.count)}});
  std::sort(by_upper.begin(), by_upper.end(), [](const auto& l, const auto& r) { return l.first < r.first; });
  std::vector<TieGroup> groups;
  for (size_t k = 0; k < by_upper.size(); ++k) {
    if (k > 0 && by_upper[k].first == by_upper[k - 1].first) {
      groups.back().a += by_upper[k].second.a;
      groups.back().b += by_upper[k].second.b;
    } else {
      groups.push_back(by_upper[k].second);
    }
  }
  return from_groups(groups);
}

MannWhitney mann_whitney_binary(uint64_t a_hits, uint64_t a_n, uint64_t b_hits, uint64_t b_n) {
  std::vector<TieGroup> groups = {
      {static_cast<double>(a_n - a_hits), static_cast<double>(b_n - b_hits)},
      {static_cast<double>(a_hits), static_cast<double>(b_hits)},
  };
  return from_groups(groups);
}

std::string CanaryResult::summary() const {
  std::string out(to_string(verdict));
  out += ": candidate " + std::to_string(candidate_requests) + " requests, baseline " +
         std::to_string(baseline_requests) + " (min " + std::to_string(min_samples) + ")";
  for (const auto& m : metrics) {
    char buf[240];
    std::snprintf(buf, sizeof buf, "; %s %.4g vs %.4g (limit %.4g%s%s) %s: %s", m.metric.c_str(), m.candidate,
                  m.baseline, m.limit, m.tested ? ", p=" : "",
                  m.tested ? std::to_string(m.p_value).c_str() : "",
                  std::string(to_string(m.verdict)).c_str(), m.rule.c_str());
    out += buf;
  }
  return out;
}

store::CanaryAnalysis CanaryResult::analysis() const {
  store::CanaryAnalysis a;
  a.verdict = std::string(to_string(verdict));
  a.baseline_requests = baseline_requests;
  a.candidate_requests = candidate_requests;
  a.min_samples = min_samples;
  a.alpha = alpha;
  for (const auto& m : metrics) {
    store::MetricJudgement j;
    j.metric = m.metric;
    j.baseline = m.baseline;
    j.candidate = m.candidate;
    j.limit = m.limit;
    j.breached = m.breached;
    j.tested = m.tested;
    if (m.tested) {
      j.z = m.z;
      j.p = m.p_value;
    }
    j.verdict = std::string(to_string(m.verdict));
    j.rule = m.rule;
    a.metrics.push_back(std::move(j));
  }
  a.summary = summary();
  return a;
}

int CanaryLooks::looks() const {
  const Millis spacing = std::max(interval, poll);
  const Millis rest = std::max(deadline - interval, Millis{0});
  return 1 + static_cast<int>((rest + spacing - Millis{1}) / spacing);  // the deadline may be one more
}

bool CanaryLooks::is_look(Millis window, bool at_deadline) const {
  const Millis spacing = std::max(interval, poll);
  return at_deadline || (window >= interval && (window - interval) % spacing < poll);
}

namespace {

// A gross breach fails without the U test; "" when there is none.
std::string gross_breach(const MetricVerdict& m, const WindowStats& candidate, const CanaryPolicy& p) {
  uint64_t n = candidate.counts.requests;
  if (n < CanaryPolicy::kGrossMinRequests || !m.breached) return "";
  if (m.metric == "error_rate") {
    uint64_t errors = candidate.errors_5xx();
    if (errors == n) return "gross: every one of " + std::to_string(n) + " candidate requests failed";
    if (errors >= p.gross_5xx)
      return "gross: " + std::to_string(errors) + " candidate 5xx (rule: >= " + std::to_string(p.gross_5xx) +
             ")";
  } else if (m.metric == "p50" && p.gross_latency_ratio > 0 &&
             m.candidate > m.limit * p.gross_latency_ratio) {
    char buf[120];
    std::snprintf(buf, sizeof buf, "gross: p50 over %.3g x its limit (%zu requests)", p.gross_latency_ratio,
                  static_cast<size_t>(n));
    return buf;
  }
  return "";
}

// One metric's verdict and the rule that decided it (the order is the header's).
void decide(MetricVerdict& m, const MannWhitney& test, const WindowStats& baseline,
            const WindowStats& candidate, const CanaryPolicy& p) {
  uint64_t nb = baseline.counts.requests, nc = candidate.counts.requests;
  bool enough = nc >= p.min_samples && nb >= p.min_samples;
  if (enough) {
    m.tested = true;
    m.z = test.z;
    m.p_value = test.p_greater;
  }
  auto set = [&](Verdict v, std::string rule) {
    m.verdict = v;
    m.rule = std::move(rule);
  };
  if (auto g = gross_breach(m, candidate, p); !g.empty()) return set(Verdict::kFail, g);
  if (nb == 0) {  // a first deploy or an idle service: nothing to compare against, only the gross rules
    if (nc > 0 && m.breached)
      return set(Verdict::kInconclusive, "over the limit with no baseline to test against");
    return set(Verdict::kPass, "no baseline traffic (a first deploy or an idle service): gross rules only");
  }
  if (nc == 0) return set(Verdict::kInconclusive, "no candidate traffic yet");
  if (!enough)
    return set(Verdict::kInconclusive, "waiting for samples: candidate " + std::to_string(nc) +
                                           ", baseline " + std::to_string(nb) + " of " +
                                           std::to_string(p.min_samples));
  if (!m.breached) return set(Verdict::kPass, "within the limit");
  // Two tests decide a release (errors, and latency for p50 and p99 together); each gets half of alpha, so
  // a release as good as the one serving fails at most alpha of the time (Bonferroni), not twice that.
  if (m.p_value < p.alpha / CanaryPolicy::kTests)
    return p.test_look ? set(Verdict::kFail, "over the limit and U test p < alpha/2")
                       : set(Verdict::kInconclusive,
                             "over the limit and U test p < alpha/2; decided at the step's next look");
  set(Verdict::kInconclusive, "over the limit, U test p >= alpha/2 (not significant)");
}

}  // namespace

CanaryResult analyze_canary(const WindowStats& baseline, const WindowStats& candidate,
                            const CanaryPolicy& p) {
  CanaryResult r;
  r.baseline_requests = baseline.counts.requests;
  r.candidate_requests = candidate.counts.requests;
  r.min_samples = p.min_samples;
  r.alpha = p.alpha;
  {
    MetricVerdict m;
    m.metric = "error_rate";
    m.baseline = baseline.error_rate();
    m.candidate = candidate.error_rate();
    m.limit = m.baseline + p.max_error_rate_increase;
    m.breached = m.candidate > m.limit;
    decide(m,
           mann_whitney_binary(candidate.errors_5xx(), r.candidate_requests, baseline.errors_5xx(),
                               r.baseline_requests),
           baseline, candidate, p);
    r.metrics.push_back(m);
  }
  MannWhitney latency_test = mann_whitney(candidate.counts.histogram(), baseline.counts.histogram());
  for (auto [name, q] : {std::pair<const char*, double>{"p50", 0.5}, {"p99", 0.99}}) {
    MetricVerdict m;
    m.metric = name;
    m.baseline = baseline.latency_quantile(q);
    m.candidate = candidate.latency_quantile(q);
    // With no baseline traffic (a first deploy) there is nothing to scale: the limit is the slack alone.
    m.limit = r.baseline_requests ? m.baseline * p.max_latency_ratio + p.latency_slack_seconds
                                  : p.latency_slack_seconds;
    m.breached = r.baseline_requests > 0 && m.candidate > m.limit;
    decide(m, latency_test, baseline, candidate, p);
    r.metrics.push_back(m);
  }
  r.verdict = Verdict::kPass;
  for (const auto& m : r.metrics) {
    if (m.verdict == Verdict::kFail) r.verdict = Verdict::kFail;
    if (m.verdict == Verdict::kInconclusive && r.verdict == Verdict::kPass)
      r.verdict = Verdict::kInconclusive;
  }
  return r;
}

}  // namespace villager::monitor
