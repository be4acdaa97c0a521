#pragma once
// One proxy thread: its io_context, the sessions it serves, its upstream pool and its cached route
// snapshot. Everything here except the counters is only touched on that thread (no locks on the hot path).

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "proxy/connection_limits.h"
#include "proxy/proxy.h"
#include "proxy/route_table.h"
#include "proxy/upstream_pool.h"

namespace villager::proxy {

class Session;

// A route table as one thread uses it: the table plus, per upstream, its pool key and resolved endpoint.
struct RouteSnapshot {
  std::shared_ptr<const RouteTable> table;
  std::vector<std::string> keys;                                         // "host:port", index = upstream
  std::vector<std::optional<boost::asio::ip::tcp::endpoint>> endpoints;  // empty when it did not resolve
};

struct WorkerCounters {
  // Written only by the worker's thread; read by stats() from any thread.
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> upstream_connects{0};
  std::atomic<uint64_t> stale_retries{0};
  std::atomic<uint64_t> pooled_idle{0};
  std::atomic<uint64_t> shed{0};
  std::atomic<uint64_t> tls_handshakes{0};
  std::atomic<uint64_t> tls_failures{0};
  std::atomic<uint64_t> redirects{0};
  std::atomic<uint64_t> upgrades{0};
  static void bump(std::atomic<uint64_t>& c) {
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
};

class Worker {
 public:
  Worker(const ProxyOptions& options, Routes& routes, ConnectionLimits& connection_limits);

  boost::asio::io_context& ioc() { return ioc_; }
  const ProxyLimits& limits() const { return limits_; }
  ClientForwarded client_forwarded() const { return client_forwarded_; }
  CertStore* tls() const { return tls_; }  // null on a plain listener
  uint16_t redirect_https_port() const { return redirect_https_port_; }
  const RequestObserver& observer() const { return observer_; }
  UpstreamPool& pool() { return pool_; }
  WorkerCounters& counters() { return counters_; }
  bool stopping() const { return stopping_; }
  ConnectionLimits& connection_limits() { return connection_limits_; }
  // Requests in flight to `release_id` on this thread (the counter max_inflight_per_release caps).
  size_t& inflight(const std::string& release_id) { return inflight_[release_id]; }

  // The current routes, refreshed when Routes::version() moved; a refresh also closes idle pooled
  // connections to upstreams the new table no longer routes to.
  const std::shared_ptr<const RouteSnapshot>& routes();
  uint64_t random() { return rng_.next(); }
  // True when `conn`'s release and address still take traffic in the current table.
  bool routable(const UpstreamConnection& conn);
  // Returns `conn` to the pool, or closes it when its upstream no longer takes traffic.
  void release_upstream(std::unique_ptr<UpstreamConnection> conn);

  std::list<Session*>::iterator add_session(Session* s);
  void remove_session(std::list<Session*>::iterator it);
  // Upgraded connections: counted per release, and checked against the routes every
  // kTunnelCheckInterval while any is open (a swap is noticed even when no request arrives).
  std::list<Session*>::iterator add_tunnel(Session* s, const std::string& release_id);
  void remove_tunnel(std::list<Session*>::iterator it, const std::string& release_id);
  // Open upgraded connections per release; from any thread.
  std::map<std::string, uint64_t> upgraded_by_release() const;

  // Keeps run() going while there are no sessions; dropped by begin_stop().
  void hold_open();
  // On this thread: stop taking new requests, close idle connections, force the rest after the drain
  // deadline. run() returns once every session ended.
  void begin_stop();

 private:
  void refresh_routes();
  static bool routable_in(const RouteSnapshot& snap, const UpstreamConnection& conn);
  void force_close_all();
  void arm_tunnel_check();
  void check_tunnels();

  static constexpr std::chrono::milliseconds kTunnelCheckInterval{500};

  boost::asio::io_context ioc_{1};
  const ProxyLimits& limits_;
  const RequestObserver& observer_;
  const ClientForwarded client_forwarded_;
  CertStore* const tls_;
  const uint16_t redirect_https_port_;
  Routes& source_;
  ConnectionLimits& connection_limits_;
  std::unordered_map<std::string, size_t> inflight_;  // release id -> requests in flight (never erased)
  uint64_t version_ = 0;
  std::shared_ptr<const RouteSnapshot> routes_;
  FastRandom rng_;
  UpstreamPool pool_;
  WorkerCounters counters_;
  std::list<Session*> sessions_;
  bool stopping_ = false;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  boost::asio::steady_timer drain_timer_{ioc_};
  std::list<Session*> tunnels_;
  boost::asio::steady_timer tunnel_timer_{ioc_};
  bool tunnel_check_armed_ = false;
  mutable std::mutex tunnels_mu_;
  std::map<std::string, uint64_t> upgraded_by_release_;  // Guarded by tunnels_mu_; erased at 0.
};

}  // namespace villager::proxy
