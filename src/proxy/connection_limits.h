#pragma once
// The proxy-wide connection caps: how many client connections are open in all, and per client IP.
// Shared by every proxy thread; touched once when a connection opens and once when it closes (a mutex,
// never per request).

#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

namespace villager::proxy {

class ConnectionLimits {
 public:
  enum class Admit { kOk, kTooManyConnections, kTooManyFromClient };

  // 0 = no cap.
  ConnectionLimits(size_t max_total, size_t max_per_ip) : max_total_(max_total), max_per_ip_(max_per_ip) {}

  // Counts the connection from `ip` when both caps allow it; a refused one is not counted.
  Admit admit(const std::string& ip);
  // Un-counts a connection admit() counted.
  void release(const std::string& ip);
  size_t open() const;

 private:
  const size_t max_total_;
  const size_t max_per_ip_;
  mutable std::mutex mu_;
  size_t open_ = 0;                                 // Guarded by mu_.
  std::unordered_map<std::string, size_t> per_ip_;  // Guarded by mu_; only IPs with open connections.
};

}  // namespace villager::proxy
