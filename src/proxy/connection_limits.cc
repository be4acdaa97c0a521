#include "proxy/connection_limits.h"

namespace villager::proxy {

ConnectionLimits::Admit ConnectionLimits::admit(const std::string& ip) {
  std::lock_guard lock(mu_);
  if (max_total_ > 0 && open_ >= max_total_) return Admit::kTooManyConnections;
  size_t& mine = per_ip_[ip];
  if (max_per_ip_ > 0 && mine >= max_per_ip_) {
    if (mine == 0) per_ip_.erase(ip);
    return Admit::kTooManyFromClient;
  }
  ++mine;
  ++open_;
  return Admit::kOk;
}

void ConnectionLimits::release(const std::string& ip) {
  std::lock_guard lock(mu_);
  auto it = per_ip_.find(ip);
  if (it == per_ip_.end()) return;
  if (--it->second == 0) per_ip_.erase(it);
  --open_;
}

size_t ConnectionLimits::open() const {
  std::lock_guard lock(mu_);
  return open_;
}

}  // namespace villager::proxy
