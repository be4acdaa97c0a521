#include "agent/control_server.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <sstream>

#include "base/log.h"
#include "base/strings.h"
#include "proxy/cert_store.h"

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

namespace {

// The connection's socket with a deadline on every read and write. A blocking asio socket has none
// (SO_RCVTIMEO ends a recv with EAGAIN, and asio then waits on poll() without a limit), so each call
// waits with poll() for at most `seconds` first.
constexpr std::chrono::milliseconds kCloseNotifyWait{1000};

class DeadlineStream {
 public:
  using executor_type = asio::ip::tcp::socket::executor_type;
  using lowest_layer_type = asio::ip::tcp::socket::lowest_layer_type;  // for ssl::stream on top
  DeadlineStream(asio::ip::tcp::socket& sock, int seconds) : sock_(sock), millis_(seconds * 1000) {}
  executor_type get_executor() { return sock_.get_executor(); }
  lowest_layer_type& lowest_layer() { return sock_.lowest_layer(); }
  void set_deadline(std::chrono::milliseconds d) { millis_ = static_cast<int>(d.count()); }

  template <class Buffers>
  size_t read_some(const Buffers& buffers, boost::system::error_code& ec) {
    if (!ready(POLLIN, ec)) return 0;
    return sock_.read_some(buffers, ec);
  }
  template <class Buffers>
  size_t write_some(const Buffers& buffers, boost::system::error_code& ec) {
    if (!ready(POLLOUT, ec)) return 0;
    return sock_.write_some(buffers, ec);
  }
  template <class Buffers>
  size_t read_some(const Buffers& buffers) {
    boost::system::error_code ec;
    size_t n = read_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }
  template <class Buffers>
  size_t write_some(const Buffers& buffers) {
    boost::system::error_code ec;
    size_t n = write_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }

 private:
  bool ready(short events, boost::system::error_code& ec) {
    pollfd p{sock_.native_handle(), events, 0};
    int n;
    do n = ::poll(&p, 1, millis_);
    while (n < 0 && errno == EINTR);
    if (n == 0) ec = asio::error::timed_out;
    if (n < 0) ec = boost::system::error_code(errno, boost::system::system_category());
    return n > 0;
  }
  asio::ip::tcp::socket& sock_;
  int millis_;
};

}  // namespace

Status ControlServer::start(const std::string& host, uint16_t port) {
  std::string addr_text = host + ":" + std::to_string(port);
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return InvalidArgument("control API address " + addr_text + ": not an IP address literal");
  asio::ip::tcp::endpoint endpoint(address, port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(64, ec);
  if (ec) {
    acceptor_.close();
    return Unavailable("control API cannot listen on " + addr_text + ": " + ec.message());
  }
  port_ = acceptor_.local_endpoint().port();
  accept_next();
  accept_thread_ = std::thread([this] { ioc_.run(); });
  return Ok();
}

void ControlServer::accept_next() {
  acceptor_.async_accept([this](boost::system::error_code ec, asio::ip::tcp::socket sock) {
    if (stopping_ || !acceptor_.is_open()) return;
    if (!ec) admit(std::move(sock));
    accept_next();
  });
}

void ControlServer::admit(asio::ip::tcp::socket sock) {
  std::lock_guard lock(mutex_);
  reap_finished();
  if (static_cast<int>(connections_.size()) >= max_connections_) {
    // Refused before reading: the answer fits the socket's send buffer, so this write does not block.
    static const std::string body =
        R"({"status":"error","message":"too many connections to the control API; retry"})";
    static const std::string busy =
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
        "Connection: close\r\nContent-Length: " +
        std::to_string(body.size()) + "\r\n\r\n" + body;
    boost::system::error_code ec;
    sock.non_blocking(true, ec);
    sock.write_some(asio::buffer(busy), ec);
    log_event(LogLevel::kWarn, "control", "connection.refused",
              {{"reason", "connection cap"}, {"max_connections", std::to_string(max_connections_)}});
    return;
  }
  Connection& c = connections_.emplace_back(std::move(sock));
  c.thread = std::thread([this, &c] {
    serve(c.socket);
    c.done = true;
  });
}

void ControlServer::reap_finished() {
  for (auto it = connections_.begin(); it != connections_.end();) {
    if (!it->done) {
      ++it;
      continue;
    }
    it->thread.join();
    it = connections_.erase(it);
  }
}

void ControlServer::stop() {
  if (stopping_.exchange(true)) return;
  if (accept_thread_.joinable()) {
    asio::post(ioc_, [this] { acceptor_.close(); });
    accept_thread_.join();
  }
  // Idle keep-alive connections see end of input now; a request in progress (a start waiting for
  // health) still writes its answer, then its connection ends the same way.
  std::lock_guard lock(mutex_);
  for (auto& c : connections_) ::shutdown(c.socket.native_handle(), SHUT_RD);
  for (auto& c : connections_) c.thread.join();
  connections_.clear();
}

ControlServer::~ControlServer() {
  stop();
}

void ControlServer::serve(asio::ip::tcp::socket& sock) {
  DeadlineStream plain(sock, read_timeout_seconds_);
  boost::system::error_code ec;
  if (!tls_) {
    serve_requests(plain);
  } else {
    // The certificates of this moment stay with the connection: a reload changes new handshakes only.
    std::shared_ptr<const proxy::CertSet> certs = tls_->current();
    asio::ssl::stream<DeadlineStream&> stream(plain, certs->default_context());
    stream.handshake(asio::ssl::stream_base::server, ec);  // a plain-HTTP or TLS 1.0 client ends here
    if (!ec) {
      serve_requests(stream);
      // close_notify out, then at most a short wait for the peer's: a browser that keeps its side
      // open must not hold this thread (and stop()) for another read deadline.
      plain.set_deadline(kCloseNotifyWait);
      stream.shutdown(ec);
    }
  }
  sock.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  sock.close(ec);
}

template <class Stream>
void ControlServer::serve_requests(Stream& stream) {
  boost::system::error_code ec;
  beast::flat_buffer buf;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(kMaxBodyBytes);
    parser.header_limit(16 * 1024);
    http::read(stream, buf, parser, ec);
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
      stream_response(stream, resp);
      break;
    }
    http::response<http::string_body> out{static_cast<http::status>(resp.status), msg.version()};
    out.set(http::field::content_type, resp.content_type);
    out.set(http::field::server, "villager-agent");
    for (const auto& [name, value] : resp.headers) out.set(name, value);
    out.keep_alive(msg.keep_alive());
    out.body() = std::move(resp.body);
    out.prepare_payload();
    http::write(stream, out, ec);
    if (ec || !msg.keep_alive()) break;
  }
}

template <class Stream>
void ControlServer::stream_response(Stream& stream, const ControlResponse& resp) {
  // Written by hand: Beast's serializer wants the whole body, a stream has none yet.
  std::ostringstream text;
  text << "HTTP/1.1 " << resp.status << " "
       << std::string(http::obsolete_reason(static_cast<http::status>(resp.status))) << "\r\n"
       << "Content-Type: " << resp.content_type << "\r\nCache-Control: no-store\r\nConnection: close\r\n";
  for (const auto& [name, value] : resp.headers) text << name << ": " << value << "\r\n";
  text << "\r\n";
  // Every write has the stream's deadline: a reader that stops reading is let go.
  boost::system::error_code ec;
  asio::write(stream, asio::buffer(text.str()), ec);
  while (!ec && !stopping_) {
    std::optional<std::string> chunk = resp.stream();
    if (!chunk) break;
    if (!chunk->empty()) asio::write(stream, asio::buffer(*chunk), ec);
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
