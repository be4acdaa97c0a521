#pragma once
// ControlServer: the agent's HTTP control API on a loopback address (and the dashboard's server, which
// registers its own routes and does its own authentication). Low traffic, so each connection is
// served synchronously on its own thread (a request may block for a health deadline); every read has a
// deadline. Authentication is by bearer token per environment: no or unknown token -> 401; a valid token
// of another environment -> 403. Routes are registered by the agent.

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/error.h"

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

  // `pattern` is a path whose `{x}` segments match one segment each: "/v1/env/{env}/status".
  void route(const std::string& method, const std::string& pattern, Handler handler);

  // Binds and starts accepting on its own thread. A bind error names the address.
  Status start(const std::string& host, uint16_t port);
  uint16_t port() const { return port_; }
  // Stops accepting and waits for connections in progress.
  void stop();
  ~ControlServer();

  static constexpr int kReadTimeoutSeconds = 30;
  static constexpr size_t kMaxBodyBytes = 1 << 20;

 private:
  void serve(int fd);
  void stream_response(boost::asio::ip::tcp::socket& sock, const ControlResponse& resp);
  ControlResponse dispatch(ControlRequest& req);

  struct Route {
    std::string method;
    std::vector<std::string> parts;
    Handler handler;
  };
  std::vector<Route> routes_;  // set before start(), read-only after
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> active_{0};
  std::thread accept_thread_;
};

// JSON error body {"status":"error","message":...}.
ControlResponse json_error(int status, const std::string& message);

}  // namespace villager::agent
