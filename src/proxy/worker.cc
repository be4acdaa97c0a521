#include "proxy/worker.h"

#include <boost/asio/ip/address.hpp>
#include <random>
#include <utility>

#include "proxy/session.h"

namespace villager::proxy {

namespace asio = boost::asio;

namespace {

uint64_t random_seed() {
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

}  // namespace

Worker::Worker(const ProxyOptions& options, Routes& routes, ConnectionLimits& connection_limits)
    : limits_(options.limits),
      observer_(options.observer),
      client_forwarded_(options.client_forwarded),
      tls_(options.tls.get()),
      redirect_https_port_(options.redirect_https_port),
      source_(routes),
      connection_limits_(connection_limits),
      rng_(random_seed()),
      pool_(options.limits.max_idle_per_upstream) {}

const std::shared_ptr<const RouteSnapshot>& Worker::routes() {
  if (!routes_ || source_.version() != version_) refresh_routes();
  return routes_;
}

void Worker::refresh_routes() {
  // The version is read before the table: if a store() lands in between, the next call refreshes again.
  version_ = source_.version();
  auto snap = std::make_shared<RouteSnapshot>();
  snap->table = source_.snapshot();
  for (const Upstream& u : snap->table->upstreams) {
    snap->keys.push_back(u.release_id + "@" + u.host + ":" + std::to_string(u.port));
    boost::system::error_code ec;
    auto address = asio::ip::make_address(u.host, ec);
    if (!ec) {
      snap->endpoints.emplace_back(asio::ip::tcp::endpoint(address, u.port));
      continue;
    }
    // Names resolve once per table swap, not per request (the table names loopback slots in practice).
    asio::ip::tcp::resolver resolver(ioc_);
    auto results = resolver.resolve(u.host, std::to_string(u.port), ec);
    std::optional<asio::ip::tcp::endpoint> chosen;
    if (!ec) {
      // One address per upstream, IPv4 first: release slots listen on 127.0.0.1, and "localhost" often
      // resolves to ::1 first.
      for (const auto& entry : results) {
        if (!chosen || (entry.endpoint().address().is_v4() && !chosen->address().is_v4()))
          chosen = entry.endpoint();
      }
    }
    snap->endpoints.emplace_back(chosen);
  }
  routes_ = std::move(snap);
  // Judged against this snapshot, not routes(): a store() landing meanwhile must not re-enter the pool.
  pool_.close_unless([this](const UpstreamConnection& c) { return routable_in(*routes_, c); });
  counters_.pooled_idle.store(pool_.idle(), std::memory_order_relaxed);
}

bool Worker::routable(const UpstreamConnection& conn) {
  return routable_in(*routes(), conn);
}

bool Worker::routable_in(const RouteSnapshot& snap, const UpstreamConnection& conn) {
  for (size_t i = 0; i < snap.keys.size(); ++i) {
    if (snap.table->upstreams[i].weight > 0 && snap.keys[i] == conn.key) return true;
  }
  return false;
}

void Worker::release_upstream(std::unique_ptr<UpstreamConnection> conn) {
  if (!stopping_ && routable(*conn)) {
    pool_.release(std::move(conn));
  } else {
    boost::system::error_code ignored;
    conn->socket.close(ignored);
  }
  counters_.pooled_idle.store(pool_.idle(), std::memory_order_relaxed);
}

std::list<Session*>::iterator Worker::add_session(Session* s) {
  return sessions_.insert(sessions_.end(), s);
}

void Worker::remove_session(std::list<Session*>::iterator it) {
  sessions_.erase(it);
  if (stopping_ && sessions_.empty()) drain_timer_.cancel();
}

std::list<Session*>::iterator Worker::add_tunnel(Session* s, const std::string& release_id) {
  {
    std::lock_guard lock(tunnels_mu_);
    ++upgraded_by_release_[release_id];
  }
  WorkerCounters::bump(counters_.upgrades);
  auto it = tunnels_.insert(tunnels_.end(), s);
  arm_tunnel_check();
  return it;
}

void Worker::remove_tunnel(std::list<Session*>::iterator it, const std::string& release_id) {
  tunnels_.erase(it);
  std::lock_guard lock(tunnels_mu_);
  if (auto found = upgraded_by_release_.find(release_id); found != upgraded_by_release_.end()) {
    if (--found->second == 0) upgraded_by_release_.erase(found);
  }
}

std::map<std::string, uint64_t> Worker::upgraded_by_release() const {
  std::lock_guard lock(tunnels_mu_);
  return upgraded_by_release_;
}

void Worker::arm_tunnel_check() {
  if (tunnel_check_armed_ || stopping_) return;
  tunnel_check_armed_ = true;
  tunnel_timer_.expires_after(kTunnelCheckInterval);
  tunnel_timer_.async_wait([this](boost::system::error_code ec) {
    tunnel_check_armed_ = false;
    if (!ec) check_tunnels();
  });
}

void Worker::check_tunnels() {
  if (tunnels_.empty() || stopping_) return;
  routes();  // refreshes the snapshot when a swap happened since the last request
  std::vector<Session*> open(tunnels_.begin(), tunnels_.end());
  for (Session* s : open) s->check_drain();
  arm_tunnel_check();
}

void Worker::hold_open() {
  work_.emplace(ioc_.get_executor());
}

void Worker::begin_stop() {
  stopping_ = true;
  work_.reset();
  tunnel_timer_.cancel();
  pool_.close_all();
  counters_.pooled_idle.store(0, std::memory_order_relaxed);
  // Idle keep-alive connections close now; the others close after the response they are working on
  // (it carries Connection: close), or when the drain deadline passes.
  std::vector<Session*> idle;
  for (Session* s : sessions_) {
    if (s->idle()) idle.push_back(s);
  }
  for (Session* s : idle) s->close();
  if (sessions_.empty()) return;
  drain_timer_.expires_after(limits_.drain_timeout);
  drain_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) force_close_all();
  });
}

void Worker::force_close_all() {
  std::vector<Session*> all(sessions_.begin(), sessions_.end());
  for (Session* s : all) s->close();
}

}  // namespace villager::proxy
