#pragma once
// The HTTP server: an async Boost.Beast listener with one session per connection on its own strand, a
// deadline before every read, named header/body limits, and graceful shutdown (stop accepting, let
// in-flight requests finish, close idle keep-alive connections, force the rest after kShutdownGrace).
// Also applies the connection-level faults: latency:MS and crash-after:N.

#include <atomic>
#include <boost/asio.hpp>
#include <chrono>
#include <list>
#include <memory>
#include <mutex>

#include "access_log.h"
#include "config.h"
#include "service.h"

namespace send_server {

constexpr uint64_t kMaxBodyBytes = 64ull * 1024 * 1024;
constexpr uint32_t kMaxHeaderBytes = 16 * 1024;
constexpr std::chrono::seconds kReadDeadline{30};  // per header and per body, also the keep-alive idle limit
constexpr std::chrono::seconds kShutdownGrace{10};
constexpr std::chrono::seconds kLingerTime{
    2};  // reading and discarding after refusing a body  // in-flight requests get this long after SIGTERM
constexpr int kCrashExitCode = 70;  // crash-after:N exits with this

class Session;

class Server {
 public:
  Server(const Config& config, Service& service, AccessLog& log);
  ~Server();

  // Binds and listens on config.host:config.port.
  villager::Status listen();
  // Serves on config.threads threads until SIGTERM/SIGINT has drained every session; then returns.
  void run();

  // Session bookkeeping and hooks (called by sessions).
  void session_started(const std::shared_ptr<Session>& s);
  void session_ended();
  bool stopping() const { return stopping_.load(); }
  // Counts one request: crash-after:N exits after answering the Nth, and answers none after it.
  enum class Turn { kServe, kCrashAfter, kPastCrash };
  Turn count_request();

  const Config& config() const { return config_; }
  Service& service() { return service_; }
  AccessLog& log() { return log_; }

 private:
  void do_accept();
  void begin_shutdown();

  const Config& config_;
  Service& service_;
  AccessLog& log_;
  // Declared before ioc_: sessions destroyed with the io_context still report to these.
  std::mutex mu_;
  std::list<std::weak_ptr<Session>> sessions_;  // Guarded by mu_.
  size_t live_sessions_ = 0;                    // Guarded by mu_.
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer grace_timer_;  // Only touched on its own strand.
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> requests_{0};
};

}  // namespace send_server
