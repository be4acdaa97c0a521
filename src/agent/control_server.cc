#include "agent/control_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <cstring>
#include <sstream>

#include "base/log.h"
#include "base/strings.h"

namespace villager::agent {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;

ControlResponse json_error(int status, const std::string& message) {
  return {status, "{\"status\":\"error\",\"message\":" + quote(message) + "}", "application/json"};
}

void ControlServer::route(const std::string& method, const std::string& pattern, Handler handler) {
  Route r{method, split(pattern.substr(1), '/'), std::move(handler)};
  routes_.push_back(std::move(r));
}

Status ControlServer::start(const std::string& host, uint16_t port) {
  std::string addr_text = host + ":" + std::to_string(port);
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Internal("control API socket: " + std::string(std::strerror(errno)));
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    ::close(fd);
    return InvalidArgument("control API address " + addr_text + ": only IPv4 literals are supported");
  }
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 64) != 0) {
    std::string why = std::strerror(errno);
    ::close(fd);
    return Unavailable("control API cannot listen on " + addr_text + ": " + why);
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  listen_fd_ = fd;
  accept_thread_ = std::thread([this] {
    while (!stopping_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 200) <= 0) continue;
      int c = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      active_++;
      std::thread([this, c] {
        serve(c);
        active_--;
      }).detach();
    }
  });
  return Ok();
}

void ControlServer::stop() {
  if (stopping_.exchange(true)) return;
  if (accept_thread_.joinable()) accept_thread_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  listen_fd_ = -1;
  // Requests in progress (a start waiting for health) may take their full deadline.
  for (int i = 0; i < 3000 && active_ > 0; ++i) usleep(10'000);
}

ControlServer::~ControlServer() {
  stop();
}

void ControlServer::serve(int fd) {
  timeval tv{kReadTimeoutSeconds, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  asio::io_context ioc;
  asio::ip::tcp::socket sock(ioc);
  boost::system::error_code ec;
  sock.assign(asio::ip::tcp::v4(), fd, ec);
  if (ec) {
    ::close(fd);
    return;
  }
  beast::flat_buffer buf;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(kMaxBodyBytes);
    parser.header_limit(16 * 1024);
    http::read(sock, buf, parser, ec);
    if (ec) break;
    auto& msg = parser.get();
    ControlRequest req;
    req.method = std::string(msg.method_string());
    std::string target(msg.target());
    req.target = target.substr(0, target.find('?'));
    if (auto q = target.find('?'); q != std::string::npos) req.query = target.substr(q + 1);
    for (const auto& f : msg) req.headers[to_lower(std::string(f.name_string()))] = std::string(f.value());
    req.body = msg.body();
    req.authorization = std::string(msg[http::field::authorization]);
    ControlResponse resp;
    try {
      resp = dispatch(req);
    } catch (const std::exception& e) {
      // A bad request never ends the agent.
      resp = json_error(500, std::string("internal error: ") + e.what());
    }
    if (resp.stream) {
      stream_response(sock, resp);
      break;
    }
    http::response<http::string_body> out{static_cast<http::status>(resp.status), msg.version()};
    out.set(http::field::content_type, resp.content_type);
    out.set(http::field::server, "villager-agent");
    for (const auto& [name, value] : resp.headers) out.set(name, value);
    out.keep_alive(msg.keep_alive());
    out.body() = std::move(resp.body);
    out.prepare_payload();
    http::write(sock, out, ec);
    if (ec || !msg.keep_alive()) break;
  }
  sock.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  sock.close(ec);
}

void ControlServer::stream_response(asio::ip::tcp::socket& sock, const ControlResponse& resp) {
  // Written by hand: Beast's serializer wants the whole body, a stream has none yet.
  std::ostringstream text;
  text << "HTTP/1.1 " << resp.status << " "
       << std::string(http::obsolete_reason(static_cast<http::status>(resp.status))) << "\r\n"
       << "Content-Type: " << resp.content_type << "\r\nCache-Control: no-store\r\nConnection: close\r\n";
  for (const auto& [name, value] : resp.headers) text << name << ": " << value << "\r\n";
  text << "\r\n";
  boost::system::error_code ec;
  asio::write(sock, asio::buffer(text.str()), ec);
  while (!ec && !stopping_) {
    std::optional<std::string> chunk = resp.stream();
    if (!chunk) break;
    if (!chunk->empty()) asio::write(sock, asio::buffer(*chunk), ec);
  }
}

ControlResponse ControlServer::dispatch(ControlRequest& req) {
  auto parts = split(req.target.substr(req.target.empty() ? 0 : 1), '/');
  bool path_matched = false;
  for (const auto& r : routes_) {
    if (r.parts.size() != parts.size()) continue;
    std::vector<std::string> params;
    bool ok = true;
    for (size_t i = 0; i < parts.size() && ok; ++i) {
      if (starts_with(r.parts[i], "{"))
        params.push_back(parts[i]);
      else
        ok = r.parts[i] == parts[i];
    }
    if (!ok) continue;
    path_matched = true;
    if (r.method != req.method) continue;
    req.params = std::move(params);
    return r.handler(req);
  }
  if (path_matched) return json_error(405, "method " + req.method + " not allowed on " + req.target);
  return json_error(404, "no such endpoint: " + req.method + " " + req.target);
}

}  // namespace villager::agent
