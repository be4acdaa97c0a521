#include "monitor/probes.h"

#include <algorithm>

#include "base/log.h"
#include "monitor/http.h"
#include "store/store.h"

namespace villager::monitor {

ProbeResult http_probe(const ProbeTarget& target, Millis timeout) {
  ProbeResult r;
  r.target = target;
  auto res = http_request("GET", target.url, "", {}, timeout);
  if (!res) {
    r.detail = res.error().message;
    return r;
  }
  r.status = res->status;
  r.latency_us = res->latency_us;
  if (res->status != 200) {
    r.detail = "status " + std::to_string(res->status);
  } else if (!target.expect_body.empty() && res->body.find(target.expect_body) == std::string::npos) {
    r.detail = "body lacks " + target.expect_body;
  } else {
    r.ok = true;
  }
  return r;
}

Prober::Prober(Clock& clock, store::Store* store, Millis timeout, ProbeFn probe)
    : clock_(clock), store_(store), timeout_(timeout), probe_(std::move(probe)) {}

void Prober::set_targets(std::vector<ProbeTarget> targets) {
  std::lock_guard lock(mu_);
  targets_ = std::move(targets);
}

std::vector<ProbeResult> Prober::probe_once() {
  std::vector<ProbeTarget> targets;
  {
    std::lock_guard lock(mu_);
    targets = targets_;
  }
  std::vector<ProbeResult> results;
  for (const auto& t : targets) results.push_back(probe_(t, timeout_));
  SteadyTime now = clock_.steady_now();
  {
    std::lock_guard lock(mu_);
    last_.clear();
    for (const auto& r : results) {
      last_.push_back({r.target.environment, r.target.service, r.target.kind, r.target.release, r.ok});
      if (r.target.kind == "slot") continue;
      auto& q = samples_[{r.target.environment, r.target.service}];
      q.push_back({now, r.ok});
      if (q.size() > kMaxSamplesPerService) q.pop_front();
    }
  }
  if (store_) {
    for (const auto& r : results) {
      store::ProbeSampleRow row{0,
                                r.target.environment,
                                r.target.service,
                                r.target.kind,
                                r.target.release,
                                r.ok,
                                r.status,
                                static_cast<int64_t>(r.latency_us),
                                r.detail};
      Status s = store::insert_probe_sample(*store_, row);
      if (!s.ok())
        log_event(LogLevel::kWarn, "monitor", "probe_store_failed", {{"error", s.error().message}});
    }
  }
  return results;
}

std::optional<double> Prober::availability(const std::string& environment, const std::string& service,
                                           Millis window) const {
  SteadyTime from = clock_.steady_now() - window;
  std::lock_guard lock(mu_);
  auto it = samples_.find({environment, service});
  if (it == samples_.end()) return std::nullopt;
  uint64_t n = 0, ok = 0;
  for (const auto& s : it->second)
    if (s.at >= from) {
      ++n;
      ok += s.ok;
    }
  if (n == 0) return std::nullopt;
  return static_cast<double>(ok) / static_cast<double>(n);
}

std::vector<ProbeGauge> Prober::gauges() const {
  std::lock_guard lock(mu_);
  return last_;
}

}  // namespace villager::monitor
