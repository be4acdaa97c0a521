#pragma once
// ControlServer: the agent's HTTP control API on a loopback address (and the dashboard's server, which
// registers its own routes and does its own authentication). An io_context accepts; each connection is
// served synchronously on a thread of its own (a request may block for a health deadline, a dashboard
// stream lasts as long as the browser tab), at most max_connections at once: one more is answered 503
// with Retry-After and closed. Every read has a deadline; stop() ends idle keep-alive connections at
// once and lets requests in progress finish. Authentication is by bearer token per environment: no or
// unknown token -> 401; a valid token of another environment -> 403. Routes are registered by the agent.

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/error.h"
#include "proxy/proxy.h"

namespace villager::agent {

struct ControlRequest {
  std::string method;
  std::string target;               // path without query
  std::vector<std::string> params;  // captured path segments
  std::string body;
  std::string authorization;                     // raw Authorization header
  std::string query{};                           // after '?', raw ("" when none)
  std::map<std::string, std::string> headers{};  // every header, names lower-cased
};

struct ControlResponse {
  int status = 200;
  std::string body = "{}";  // JSON
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers{};  // extra headers (Set-Cookie, ...)
  // A streamed body (Server-Sent Events): called until it returns nullopt or the server stops; each
  // call may block up to about a second and returns the bytes to send ("" = nothing yet). The
  // connection closes when the stream ends.
  std::function<std::optional<std::string>()> stream{};
};

class ControlServer {
 public:
  using Handler = std::function<ControlResponse(const ControlRequest&)>;

  explicit ControlServer(int max_connections = kMaxConnections,
                         int read_timeout_seconds = kReadTimeoutSeconds)
      : max_connections_(max_connections), read_timeout_seconds_(read_timeout_seconds) {}
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // `pattern` is a path whose `{x}` segments match one segment each: "/v1/env/{env}/status".
  void route(const std::string& method, const std::string& pattern, Handler handler);

  // Serves HTTPS with the store's certificates (TLS 1.2+, SNI, the proxy's CertStore) instead of plain
  // HTTP. Before start(). A handshake takes the store's current set, so a reload changes new connections.
  void use_tls(std::shared_ptr<proxy::CertStore> certs) { tls_ = std::move(certs); }
  bool tls() const { return tls_ != nullptr; }

  // Binds (an IPv4 or IPv6 literal) and starts accepting on its own thread. A bind error names the
  // address.
  Status start(const std::string& host, uint16_t port);
  uint16_t port() const { return port_; }
  // Stops accepting, closes idle connections and waits for requests in progress.
  void stop();
  ~ControlServer();

  static constexpr int kReadTimeoutSeconds = 30;
  static constexpr size_t kMaxBodyBytes = 1 << 20;
  static constexpr int kMaxConnections = 64;

 private:
  struct Connection {
    explicit Connection(boost::asio::ip::tcp::socket s) : socket(std::move(s)) {}
    boost::asio::ip::tcp::socket socket;
    std::thread thread{};
    std::atomic<bool> done{false};
  };

  void accept_next();
  void admit(boost::asio::ip::tcp::socket sock);
  void reap_finished();  // joins the threads of connections that ended; holds mutex_
  void serve(boost::asio::ip::tcp::socket& sock);
  template <class Stream>
  void serve_requests(Stream& stream);
  template <class Stream>
  void stream_response(Stream& stream, const ControlResponse& resp);
  ControlResponse dispatch(ControlRequest& req);

  struct Route {
    std::string method;
    std::vector<std::string> parts;
    Handler handler;
  };
  std::vector<Route> routes_;  // set before start(), read-only after
  const int max_connections_;
  const int read_timeout_seconds_;
  std::shared_ptr<proxy::CertStore> tls_;  // set before start(); null = plain HTTP
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_{ioc_};
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread accept_thread_;
  std::mutex mutex_;                   // guards connections_
  std::list<Connection> connections_;  // stable addresses: each thread holds its own element
};

// JSON error body {"status":"error","message":...}.
ControlResponse json_error(int status, const std::string& message);

}  // namespace villager::agent
