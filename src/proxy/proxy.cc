#include "proxy/proxy.h"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <charconv>
#include <exception>
#include <thread>
#include <vector>

#include "base/log.h"
#include "proxy/cert_store.h"
#include "proxy/session.h"
#include "proxy/worker.h"

namespace villager::proxy {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// After a failed accept (out of descriptors, say) the listener waits this long before trying again.
constexpr std::chrono::milliseconds kAcceptBackoff{50};

}  // namespace

Result<std::pair<std::string, uint16_t>> split_host_port(std::string_view address) {
  size_t colon = address.rfind(':');
  if (colon == std::string_view::npos || colon == 0)
    return InvalidArgument("address '" + std::string(address) + "' is not host:port");
  std::string_view host = address.substr(0, colon);
  std::string_view port_text = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535)
    return InvalidArgument("address '" + std::string(address) + "': bad port '" + std::string(port_text) +
                           "'");
  return std::pair<std::string, uint16_t>(std::string(host), static_cast<uint16_t>(port));
}

// Threading: one io_context per thread, each with its own sessions and upstream pool, so the request path
// takes no lock. One acceptor (on thread 0) hands accepted sockets round-robin to the threads; see
// docs/proxy.md for why not SO_REUSEPORT.
struct Proxy::Impl {
  Impl(ProxyOptions o, Routes& r) : options(std::move(o)), routes(r) {}

  void accept_next();
  void run_worker(Worker& w);
  void watch_certificates();

  ProxyOptions options;
  Routes& routes;
  std::unique_ptr<ConnectionLimits> connection_limits;  // shared by the workers; outlives them
  std::vector<std::unique_ptr<Worker>> workers;
  std::unique_ptr<tcp::acceptor> acceptor;  // Only touched on workers[0]'s thread once started.
  std::unique_ptr<asio::steady_timer> backoff;
  std::unique_ptr<asio::steady_timer> cert_watch;  // on workers[0]; only with options.tls
  std::vector<std::thread> threads;
  size_t next_worker = 0;
  uint16_t port = 0;
  bool started = false;
  bool stopped = false;
};

void Proxy::Impl::accept_next() {
  Worker& target = *workers[next_worker];
  next_worker = (next_worker + 1) % workers.size();
  acceptor->async_accept(target.ioc(), [this, &target](boost::system::error_code ec, TcpSocket socket) {
    if (ec == asio::error::operation_aborted || !acceptor->is_open()) return;
    if (ec) {
      log_event(LogLevel::kWarn, "proxy", "accept_failed",
                {{"listen", options.listen}, {"error", ec.message()}});
      backoff->expires_after(kAcceptBackoff);
      backoff->async_wait([this](boost::system::error_code wec) {
        if (!wec && acceptor->is_open()) accept_next();
      });
      return;
    }
    auto session = std::make_shared<Session>(target, std::move(socket));
    if (&target == workers[0].get()) {
      session->start();
    } else {
      asio::post(target.ioc(), [session] { session->start(); });
    }
    accept_next();
  });
}

// Asks the certificate store every tls_reload_interval whether its files changed. Runs on thread 0: a stat
// per file per interval, and a reload (milliseconds) only when something moved.
void Proxy::Impl::watch_certificates() {
  cert_watch->expires_after(options.tls_reload_interval);
  cert_watch->async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    auto changed = options.tls->reload_if_changed();
    if (!changed) {
      log_event(LogLevel::kWarn, "proxy", "tls.reload_failed",
                {{"listen", options.listen}, {"error", changed.error().message}, {"kept", "previous"}});
    } else if (*changed) {
      log_event(LogLevel::kInfo, "proxy", "tls.reloaded",
                {{"listen", options.listen}, {"by", "file change"}});
    }
    watch_certificates();
  });
}

void Proxy::Impl::run_worker(Worker& w) {
  // A handler that throws (allocation failure) must not end the proxy: log and keep running.
  for (;;) {
    try {
      w.ioc().run();
      return;
    } catch (const std::exception& e) {
      log_event(LogLevel::kError, "proxy", "handler_exception",
                {{"listen", options.listen}, {"error", e.what()}});
    }
  }
}

Proxy::Proxy(ProxyOptions options, Routes& routes)
    : impl_(std::make_unique<Impl>(std::move(options), routes)) {}

Proxy::~Proxy() {
  stop();
}

Status Proxy::start() {
  Impl& m = *impl_;
  if (m.started) return FailedPrecondition("proxy on " + m.options.listen + ": already started");
  if (m.options.threads < 1)
    return InvalidArgument("proxy on " + m.options.listen + ": threads must be >= 1");
  if (m.options.limits.stream_buffer_bytes < ProxyLimits::kMinStreamBufferBytes)
    return InvalidArgument("proxy on " + m.options.listen + ": stream_buffer_bytes must be >= " +
                           std::to_string(ProxyLimits::kMinStreamBufferBytes));
  if (m.options.tls && m.options.redirect_https_port != 0)
    return InvalidArgument("proxy on " + m.options.listen +
                           ": a listener either serves TLS or redirects to it");
  auto hp = split_host_port(m.options.listen);
  if (!hp) return hp.error().context("proxy listen address");
  boost::system::error_code ec;
  auto address = asio::ip::make_address(hp->first, ec);
  if (ec)
    return InvalidArgument("proxy listen address '" + m.options.listen + "': host must be an IP address");

  m.connection_limits = std::make_unique<ConnectionLimits>(m.options.limits.max_connections,
                                                           m.options.limits.max_connections_per_ip);
  for (int i = 0; i < m.options.threads; ++i)
    m.workers.push_back(std::make_unique<Worker>(m.options, m.routes, *m.connection_limits));
  m.acceptor = std::make_unique<tcp::acceptor>(m.workers[0]->ioc());
  m.backoff = std::make_unique<asio::steady_timer>(m.workers[0]->ioc());
  m.cert_watch = std::make_unique<asio::steady_timer>(m.workers[0]->ioc());
  tcp::endpoint endpoint(address, hp->second);
  auto fail = [&](std::string_view step) {
    std::string msg = "listening on " + m.options.listen + ": " + std::string(step) + ": " + ec.message();
    m.acceptor.reset();
    m.backoff.reset();
    m.cert_watch.reset();  // timers go before the io_contexts they live on
    m.workers.clear();
    return Unavailable(msg);
  };
  m.acceptor->open(endpoint.protocol(), ec);
  if (ec) return fail("open");
  // SO_REUSEADDR only lets us rebind over TIME_WAIT leftovers; a live listener still makes bind fail.
  m.acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (ec) return fail("setsockopt");
  m.acceptor->bind(endpoint, ec);
  if (ec) return fail("bind");
  m.acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen");
  m.port = m.acceptor->local_endpoint(ec).port();

  for (auto& w : m.workers) w->hold_open();
  m.accept_next();
  if (m.options.tls && m.options.tls_reload_interval.count() > 0) m.watch_certificates();
  for (auto& w : m.workers) m.threads.emplace_back([&m, wp = w.get()] { m.run_worker(*wp); });
  m.started = true;
  log_event(LogLevel::kInfo, "proxy", "listening",
            {{"listen", m.options.listen},
             {"port", std::to_string(m.port)},
             {"threads", std::to_string(m.options.threads)}});
  return Ok();
}

uint16_t Proxy::port() const {
  return impl_->port;
}

void Proxy::stop() {
  Impl& m = *impl_;
  if (!m.started || m.stopped) return;
  m.stopped = true;
  asio::post(m.workers[0]->ioc(), [&m] {
    boost::system::error_code ignored;
    m.acceptor->close(ignored);
    m.backoff->cancel();
    m.cert_watch->cancel();
  });
  for (auto& w : m.workers) asio::post(w->ioc(), [wp = w.get()] { wp->begin_stop(); });
  for (auto& t : m.threads) t.join();
  m.threads.clear();
  m.acceptor.reset();
  m.backoff.reset();
  m.cert_watch.reset();
  m.workers.clear();
  log_event(LogLevel::kInfo, "proxy", "stopped", {{"listen", m.options.listen}});
}

void Proxy::drain(const std::string& release_id) {
  Impl& m = *impl_;
  if (!m.started || m.stopped) return;
  for (auto& w : m.workers) {
    asio::post(w->ioc(), [wp = w.get(), release_id] {
      wp->pool().close_release(release_id);
      wp->counters().pooled_idle.store(wp->pool().idle(), std::memory_order_relaxed);
    });
  }
}

Status Proxy::reload_certificates() {
  Impl& m = *impl_;
  if (!m.options.tls) return Ok();
  if (auto s = m.options.tls->reload(); !s.ok()) {
    log_event(LogLevel::kWarn, "proxy", "tls.reload_failed",
              {{"listen", m.options.listen}, {"error", s.error().message}, {"kept", "previous"}});
    return s.error().context("reloading certificates of " + m.options.listen);
  }
  log_event(LogLevel::kInfo, "proxy", "tls.reloaded", {{"listen", m.options.listen}, {"by", "request"}});
  return Ok();
}

Proxy::Stats Proxy::stats() const {
  Stats s;
  for (const auto& w : impl_->workers) {
    auto& c = w->counters();
    s.requests += c.requests.load(std::memory_order_relaxed);
    s.upstream_connects += c.upstream_connects.load(std::memory_order_relaxed);
    s.stale_retries += c.stale_retries.load(std::memory_order_relaxed);
    s.pooled_idle += c.pooled_idle.load(std::memory_order_relaxed);
    s.shed += c.shed.load(std::memory_order_relaxed);
    s.tls_handshakes += c.tls_handshakes.load(std::memory_order_relaxed);
    s.tls_failures += c.tls_failures.load(std::memory_order_relaxed);
    s.redirects += c.redirects.load(std::memory_order_relaxed);
    s.upgrades += c.upgrades.load(std::memory_order_relaxed);
    for (const auto& [release, open] : w->upgraded_by_release()) {
      s.upgraded_by_release[release] += open;
      s.upgraded_open += open;
    }
  }
  return s;
}

}  // namespace villager::proxy
