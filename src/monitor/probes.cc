#include "monitor/probes.h"

#include <algorithm>

#include "base/log.h"
#include "net/health.h"
#include "net/http.h"
#include "store/monitor_events.h"
#include "store/store.h"

namespace villager::monitor {

std::string_view to_string(ProbeState s) {
  switch (s) {
    case ProbeState::kUp:
      return "up";
    case ProbeState::kDown:
      return "down";
    case ProbeState::kAuthFailed:
      return "auth_failed";
    case ProbeState::kPending:
      return "pending";
  }
  return "down";
}

ProbeState classify_probe(const ProbeTarget& t, int status, std::string_view body, std::string& detail) {
  if (t.pending) {
    detail = "nothing serves " + t.service + " yet";
    return ProbeState::kPending;
  }
  if (status == 0) return ProbeState::kDown;  // detail: the transport's error, set by the caller
  bool sent_key = !t.auth_header.empty() && !t.auth_value.empty();
  if (status == 401 || status == 403) {
    detail = "status " + std::to_string(status) +
             (sent_key ? ": the service refused its own key (" + t.auth_header + ")"
                       : ": the probe path needs auth and the probe sent no key (set auth_header and "
                         "auth_secret, or probe_path to an open path)");
    return ProbeState::kAuthFailed;
  }
  bool status_ok = t.expect_status.empty() ? (t.expect_body.empty() ? status < 500 : status == 200)
                                           : std::find(t.expect_status.begin(), t.expect_status.end(),
                                                       status) != t.expect_status.end();
  if (!status_ok) {
    detail = "status " + std::to_string(status);
    return ProbeState::kDown;
  }
  if (status == 200 && !t.expect_body.empty()) {
    detail = net::health_failure(status, body, t.expect_body);
    if (!detail.empty()) return ProbeState::kDown;
  }
  return ProbeState::kUp;
}

// A probe reads only enough of the answer to look for `health_body`.
constexpr size_t kMaxProbeBody = 1 << 20;

ProbeResult http_probe(const ProbeTarget& target, Millis timeout) {
  ProbeResult r;
  r.target = target;
  std::vector<std::pair<std::string, std::string>> headers;
  if (!target.auth_header.empty() && !target.auth_value.empty())
    headers.emplace_back(target.auth_header, target.auth_value);
  net::HttpRequest req;
  req.url = target.url;
  req.headers = std::move(headers);
  req.timeout = timeout;
  req.direct = true;
  req.verify_tls = target.verify_tls;
  req.max_body = kMaxProbeBody;
  req.truncate_body = true;
  auto res = net::http_send(req);
  if (res) {
    r.status = res->status;
    r.latency_us = static_cast<uint64_t>(res->duration.count());
  }
  r.state = classify_probe(target, r.status, res ? std::string_view(res->body) : "", r.detail);
  if (!res && r.state == ProbeState::kDown) r.detail = res.error().message;
  r.ok = r.state == ProbeState::kUp || r.state == ProbeState::kAuthFailed;
  return r;
}

store::ProbeSampleRow probe_row(const ProbeResult& r) {
  store::ProbeSampleRow row{0,
                            r.target.environment,
                            r.target.service,
                            r.target.kind,
                            r.target.release,
                            r.ok,
                            r.status,
                            static_cast<int64_t>(r.latency_us),
                            r.detail};
  row.state = std::string(to_string(r.state));
  row.during_deploy = r.target.during_deploy;
  return row;
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
      if (r.state == ProbeState::kPending) continue;  // not up, not down: no gauge, no sample
      last_.push_back({r.target.environment, r.target.service, r.target.kind, r.target.release, r.ok});
      if (r.target.kind == "slot") continue;
      auto& q = samples_[{r.target.environment, r.target.service}];
      q.push_back({now, r.ok});
      if (q.size() > kMaxSamplesPerService) q.pop_front();
    }
  }
  if (store_) {
    for (const auto& r : results) {
      Status s = store::insert_probe_sample(*store_, probe_row(r));
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
