#include "monitor/synthetic.h"

#include "net/http.h"

namespace villager::monitor {

namespace {
// What the proxy answers when an upstream fails or is too slow: a synthetic sample says the same.
constexpr int kTransportFailureStatus = 502;
constexpr int kTimeoutStatus = 504;
}  // namespace

bool synthetic_path_protected(const std::vector<std::string>& protected_paths, std::string_view path) {
  path = path.substr(0, path.find('?'));
  for (const auto& p : protected_paths) {
    if (path == p) return true;
    std::string_view prefix = p;
    if (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
    if (path.size() > prefix.size() && path.substr(0, prefix.size()) == prefix && path[prefix.size()] == '/')
      return true;
  }
  return false;
}

SyntheticTraffic::SyntheticTraffic(SyntheticPlan plan) : plan_(std::move(plan)) {
  if (plan_.requests.empty() || plan_.budget == 0 || plan_.rate <= 0) {
    done_ = true;
    return;
  }
  thread_ = std::thread([this] { run(); });
}

SyntheticTraffic::~SyntheticTraffic() {
  stop();
}

void SyntheticTraffic::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  done_ = true;
}

std::vector<SyntheticSample> SyntheticTraffic::take() {
  std::lock_guard lock(mu_);
  std::vector<SyntheticSample> out;
  out.swap(pending_);
  return out;
}

std::map<std::string, size_t> SyntheticTraffic::sent_by_request() const {
  std::lock_guard lock(mu_);
  return by_request_;
}

void SyntheticTraffic::run() {
  net::HttpClient client;  // one keep-alive connection to the slot
  const auto start = std::chrono::steady_clock::now();
  const auto spacing = std::chrono::duration<double>(1.0 / plan_.rate);
  for (size_t i = 0; i < plan_.budget; ++i) {
    // A fixed schedule from the start: the rate is an upper bound even after a slow answer.
    auto due = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(spacing * double(i));
    {
      std::unique_lock lock(mu_);
      if (cv_.wait_until(lock, due, [this] { return stopping_; })) break;
    }
    const auto& q = plan_.requests[i % plan_.requests.size()];
    net::HttpRequest req;
    req.method = q.method;
    req.url = plan_.slot_url + q.path;
    req.timeout = plan_.timeout;
    req.direct = true;
    req.truncate_body = true;
    req.max_body = 1 << 20;
    req.headers.push_back({"user-agent", "villager-synthetic"});
    if (!plan_.auth_header.empty() && !plan_.auth_value.empty() &&
        synthetic_path_protected(plan_.protected_paths, q.path))
      req.headers.push_back({plan_.auth_header, plan_.auth_value.reveal()});
    auto sent_at = std::chrono::steady_clock::now();
    auto resp = client.send(req);
    SyntheticSample s;
    s.latency_us = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - sent_at)
            .count());
    if (resp) {
      s.status = resp->status;
      s.bytes_out = resp->body.size();
    } else {
      s.status = resp.error().code == Code::kTimeout ? kTimeoutStatus : kTransportFailureStatus;
    }
    ++sent_;
    std::lock_guard lock(mu_);
    pending_.push_back(s);
    ++by_request_[q.method + " " + q.path];
  }
  done_ = true;
}

}  // namespace villager::monitor
