#include "server.h"

#include <openssl/evp.h>

#include <array>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <cstdlib>
#include <optional>
#include <thread>
#include <vector>

#include "base/log.h"
#include "streams.h"

namespace send_server {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;
using beast::error_code;
namespace websocket = beast::websocket;

// The WebSocket echo endpoint (docs/send-server.md): every message comes back as it was sent.
constexpr std::string_view kWebSocketEcho = "/ws/echo";

// One connection: read header (deadline) -> read body (deadline, limit) -> handle -> [latency] -> write.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Server& server)
      : stream_(std::move(socket)), server_(server), delay_(stream_.get_executor()) {
    error_code ec;
    auto ep = stream_.socket().remote_endpoint(ec);
    if (!ec) peer_ip_ = ep.address().to_string();
  }
  ~Session() {
    if (digest_) EVP_MD_CTX_free(digest_);
    server_.session_ended();
  }

  void start() {
    net::dispatch(stream_.get_executor(), beast::bind_front_handler(&Session::do_read, shared_from_this()));
  }

  // Graceful stop: an idle connection closes now, a busy one after its response.
  void stop() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      self->closing_ = true;
      if (!self->busy_) {
        error_code ec;
        self->stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
        self->stream_.socket().close(ec);
      }
    });
  }

 private:
  void do_read() {
    if (closing_) return do_close();
    parser_.emplace();
    parser_->header_limit(kMaxHeaderBytes);
    // The limit is applied once the path is known: the /stream/ endpoints take bodies of any size.
    parser_->body_limit(boost::none);
    stream_.expires_after(kReadDeadline);
    beast::http::async_read_header(stream_, buffer_, *parser_,
                                   beast::bind_front_handler(&Session::on_header, shared_from_this()));
  }

  void on_header(error_code ec, size_t) {
    if (ec == beast::http::error::header_limit)
      return reply_error(beast::http::status::request_header_fields_too_large);
    // A Content-Length over the body limit is refused as soon as the header is read.
    if (ec == beast::http::error::body_limit) return reply_error(beast::http::status::payload_too_large);
    if (ec) return do_close();
    busy_ = true;
    started_ = std::chrono::steady_clock::now();
    auto& h = parser_->get();
    if (h.target() == kWebSocketEcho && websocket::is_upgrade(h)) return start_websocket();
    stream_kind_ = stream_kind(h.target());
    if (stream_kind_ == StreamKind::kNone) {
      // A Content-Length over the body limit is refused before the body is read.
      if (parser_->content_length().value_or(0) > kMaxBodyBytes)
        return reply_error(beast::http::status::payload_too_large);
      parser_->body_limit(kMaxBodyBytes);
    }
    // A client that asks (curl does for bodies over 1 MiB) waits for "100 Continue" before sending.
    if (beast::iequals(h[beast::http::field::expect], "100-continue")) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      stream_.expires_after(kReadDeadline);
      net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                       [self = shared_from_this()](error_code ec, size_t) {
                         if (ec) return self->do_close();
                         self->read_body();
                       });
      return;
    }
    read_body();
  }

  void read_body() {
    if (stream_kind_ != StreamKind::kNone) return start_stream();
    stream_.expires_after(kReadDeadline);
    beast::http::async_read(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::on_read, shared_from_this()));
  }

  void on_read(error_code ec, size_t) {
    if (ec == beast::http::error::body_limit) return reply_error(beast::http::status::payload_too_large);
    if (ec) return do_close();
    auto turn = server_.count_request();
    // Past the crash point the process is about to exit: no request after the Nth gets an answer, however
    // the threads race to the exit.
    if (turn == Server::Turn::kPastCrash) return do_close();
    crash_after_write_ = turn == Server::Turn::kCrashAfter;
    req_ = parser_->release();
    res_ = server_.service().handle(req_, peer_ip_);
    auto latency = server_.config().faults.latency;
    if (latency.count() > 0) {
      delay_.expires_after(latency);
      delay_.async_wait([self = shared_from_this()](error_code) { self->do_write(); });
    } else {
      do_write();
    }
  }

  // Answers a request that could not be read whole, then closes: the rest of the stream is unusable.
  void reply_error(beast::http::status status) {
    busy_ = true;
    started_ = std::chrono::steady_clock::now();
    req_ = Request{};
    if (parser_ && parser_->is_header_done()) req_ = parser_->get();
    req_.body().clear();
    res_ = Response{status, 11};
    res_.set(beast::http::field::content_type, "application/json");
    res_.set("x-service-version", server_.config().version);
    res_.body() =
        R"({"status":"error","message":")" + std::string(beast::http::obsolete_reason(status)) + "\"}";
    res_.keep_alive(false);
    res_.prepare_payload();
    closing_ = true;
    linger_ = true;
    do_write();
  }

  // After refusing a request whose body is still arriving: stop sending, then read and discard for a
  // while before closing, because closing with unread data sends a reset that makes the client's kernel
  // drop our error response before the client reads it.
  void linger_close() {
    error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.expires_after(kLingerTime);
    stream_.async_read_some(net::buffer(discard_), [self = shared_from_this()](error_code ec, size_t) {
      if (ec) return self->do_close();
      self->linger_close_more();
    });
  }
  void linger_close_more() {
    stream_.async_read_some(net::buffer(discard_), [self = shared_from_this()](error_code ec, size_t) {
      if (ec) return self->do_close();
      self->linger_close_more();
    });
  }

  void do_write() {
    if (closing_ || server_.stopping()) res_.keep_alive(false);
    stream_.expires_after(kReadDeadline);
    beast::http::async_write(stream_, res_,
                             beast::bind_front_handler(&Session::on_write, shared_from_this()));
  }

  void on_write(error_code ec, size_t) {
    double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started_).count();
    server_.log().record(req_, res_.result_int(), ms);
    if (crash_after_write_) {
      log_event(villager::LogLevel::kError, "send", "crash", {{"reason", "fault crash-after"}});
      std::_Exit(kCrashExitCode);
    }
    busy_ = false;
    bool keep = !ec && res_.keep_alive();
    req_ = {};
    res_ = {};
    if (!ec && linger_) return linger_close();
    if (!keep) return do_close();
    do_read();
  }

  // ---- /ws/echo: a WebSocket that sends every message back; its 101 names the version ----

  void start_websocket() {
    req_ = parser_->get();
    // The WebSocket keeps its own timeouts (pings, the close handshake) instead of the stream's.
    stream_.expires_never();
    ws_.emplace(stream_);
    ws_->set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_->set_option(websocket::stream_base::decorator(
        [version = server_.config().version](websocket::response_type& res) {
          res.set("x-service-version", version);
        }));
    // Not busy: a graceful stop closes it at once (a WebSocket client reconnects).
    busy_ = false;
    ws_->async_accept(req_, [self = shared_from_this()](error_code ec) {
      if (ec) return self->do_close();
      double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - self->started_)
                      .count();
      self->server_.log().record(self->req_, 101, ms);
      self->ws_echo();
    });
  }

  void ws_echo() {
    ws_->async_read(ws_buffer_, [self = shared_from_this()](error_code ec, size_t) {
      if (ec) return self->do_close();  // closed by the client (or a stop)
      self->ws_->text(self->ws_->got_text());
      self->ws_->async_write(self->ws_buffer_.data(), [self](error_code ec, size_t) {
        if (ec) return self->do_close();
        self->ws_buffer_.consume(self->ws_buffer_.size());
        self->ws_echo();
      });
    });
  }

  // ---- /stream/: bodies relayed in kStreamChunkBytes pieces, never held whole (docs/send-server.md) ----

  void start_stream() {
    req_ = parser_->get();  // the header, for the access log
    if (stream_kind_ == StreamKind::kUpload) {
      chunk_.resize(kStreamChunkBytes);
      // Beast reads what the buffer has room for (at least 512 bytes): room for a chunk per read.
      buffer_.reserve(kStreamChunkBytes);
      upload_.emplace(std::move(*parser_));
      parser_.reset();
      digest_ = EVP_MD_CTX_new();
      EVP_DigestInit_ex(digest_, EVP_sha256(), nullptr);
      uploaded_ = 0;
      return read_upload();
    }
    if (stream_kind_ == StreamKind::kDownload) {
      left_ = download_size(req_.target()).value_or(0);
      return write_stream_head(download_head(left_), [](Session& s) { s.write_download(); });
    }
    events_ = parse_events(req_.target());
    return write_stream_head(events_head(), [](Session& s) { s.write_event(); });
  }

  void read_upload() {
    auto& body = upload_->get().body();
    body.data = chunk_.data();
    body.size = chunk_.size();
    stream_.expires_after(kReadDeadline);
    beast::http::async_read(stream_, buffer_, *upload_, [self = shared_from_this()](error_code ec, size_t) {
      if (ec == beast::http::error::need_buffer) ec = {};
      if (ec) return self->end_stream(true);
      const size_t n = self->chunk_.size() - self->upload_->get().body().size;
      EVP_DigestUpdate(self->digest_, self->chunk_.data(), n);
      self->uploaded_ += n;
      if (!self->upload_->is_done()) return self->read_upload();
      self->finish_upload();
    });
  }

  void finish_upload() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    EVP_DigestFinal_ex(digest_, md, &len);
    const bool keep_alive = upload_->keep_alive();
    end_stream(false);
    res_ = Response{beast::http::status::ok, 11};
    res_.set(beast::http::field::content_type, "application/json");
    res_.set("x-service-version", server_.config().version);
    res_.body() = upload_result(uploaded_, std::string_view(reinterpret_cast<char*>(md), len));
    res_.keep_alive(keep_alive);
    res_.prepare_payload();
    do_write();
  }

  template <class Next>
  void write_stream_head(std::string head, Next next) {
    wire_ = std::move(head);
    stream_.expires_after(kReadDeadline);
    net::async_write(stream_, net::buffer(wire_), [self = shared_from_this(), next](error_code ec, size_t) {
      if (ec) return self->end_stream(true);
      next(*self);
    });
  }

  void write_download() {
    if (left_ == 0) return finish_stream_response(200);
    const std::string& block = download_block();
    const size_t n = static_cast<size_t>(std::min<uint64_t>(left_, block.size()));
    left_ -= n;
    stream_.expires_after(kReadDeadline);
    net::async_write(stream_, net::buffer(block.data(), n),
                     [self = shared_from_this()](error_code ec, size_t) {
                       if (ec) return self->end_stream(true);
                       self->write_download();
                     });
  }

  void write_event() {
    if (events_.sent == events_.count) {
      wire_ = "0\r\n\r\n";
    } else {
      wire_ = event_chunk(events_.sent++);
    }
    const bool last = wire_ == "0\r\n\r\n";
    stream_.expires_after(kReadDeadline);
    net::async_write(stream_, net::buffer(wire_), [self = shared_from_this(), last](error_code ec, size_t) {
      if (ec) return self->end_stream(true);
      if (last) return self->finish_stream_response(200);
      self->delay_.expires_after(self->events_.interval);
      self->delay_.async_wait([self](error_code) { self->write_event(); });
    });
  }

  // A streamed response was written by hand: log it, then go on as after any other response.
  void finish_stream_response(unsigned status) {
    double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started_).count();
    server_.log().record(req_, status, ms);
    busy_ = false;
    const bool keep = req_.keep_alive() && !closing_ && !server_.stopping();
    req_ = {};
    if (!keep) return do_close();
    do_read();
  }

  void end_stream(bool close) {
    if (digest_) EVP_MD_CTX_free(digest_);
    digest_ = nullptr;
    chunk_ = {};
    buffer_.shrink_to_fit();
    if (close) {
      upload_.reset();
      do_close();
    }
  }

  void do_close() {
    error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  Server& server_;
  net::steady_timer delay_;
  std::string peer_ip_;
  // Everything below is only touched on the stream's strand.
  beast::flat_buffer buffer_;
  std::optional<beast::http::request_parser<beast::http::string_body>> parser_;
  Request req_;
  Response res_;
  std::chrono::steady_clock::time_point started_;
  bool busy_ = false;
  bool closing_ = false;
  bool crash_after_write_ = false;
  bool linger_ = false;
  std::array<char, 16 * 1024> discard_;
  // The /stream/ endpoints' state.
  StreamKind stream_kind_ = StreamKind::kNone;
  std::optional<beast::http::request_parser<beast::http::buffer_body>> upload_;
  std::vector<char> chunk_;  // kStreamChunkBytes while an upload is read, else empty
  EVP_MD_CTX* digest_ = nullptr;
  uint64_t uploaded_ = 0;
  uint64_t left_ = 0;
  EventStream events_{};
  std::string wire_;
  // /ws/echo's state.
  std::optional<websocket::stream<beast::tcp_stream&>> ws_;
  beast::flat_buffer ws_buffer_;
};

Server::Server(const Config& config, Service& service, AccessLog& log)
    : config_(config),
      service_(service),
      log_(log),
      ioc_(config.threads),
      acceptor_(net::make_strand(ioc_)),
      signals_(ioc_, SIGTERM, SIGINT),
      grace_timer_(net::make_strand(ioc_)) {}

Server::~Server() = default;

villager::Status Server::listen() {
  error_code ec;
  auto addr = net::ip::make_address(config_.host, ec);
  if (ec) return villager::InvalidArgument("--host " + config_.host + ": " + ec.message());
  tcp::endpoint ep(addr, config_.port);
  std::string where = config_.host + ":" + std::to_string(config_.port);
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return villager::Unavailable("listening on " + where + ": " + ec.message());
  return villager::Ok();
}

void Server::run() {
  signals_.async_wait([this](error_code ec, int) {
    if (!ec) begin_shutdown();
  });
  do_accept();
  std::vector<std::thread> threads;
  for (int i = 1; i < config_.threads; ++i) threads.emplace_back([this] { ioc_.run(); });
  ioc_.run();
  for (auto& t : threads) t.join();
}

void Server::do_accept() {
  acceptor_.async_accept(net::make_strand(ioc_), [this](error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
    if (!ec && !stopping_) {
      auto s = std::make_shared<Session>(std::move(socket), *this);
      session_started(s);
      s->start();
    }
    do_accept();
  });
}

void Server::session_started(const std::shared_ptr<Session>& s) {
  std::lock_guard lock(mu_);
  ++live_sessions_;
  sessions_.remove_if([](const std::weak_ptr<Session>& w) { return w.expired(); });
  sessions_.push_back(s);
}

void Server::session_ended() {
  std::lock_guard lock(mu_);
  --live_sessions_;
  if (stopping_ && live_sessions_ == 0 && !ioc_.stopped())
    net::post(grace_timer_.get_executor(), [this] { grace_timer_.cancel(); });
}

Server::Turn Server::count_request() {
  uint64_t n = requests_.fetch_add(1) + 1;
  uint64_t last = config_.faults.crash_after;
  if (last == 0 || n < last) return Turn::kServe;
  return n == last ? Turn::kCrashAfter : Turn::kPastCrash;
}

void Server::begin_shutdown() {
  log_event(villager::LogLevel::kInfo, "send", "shutdown", {{"reason", "signal"}});
  stopping_ = true;
  net::post(acceptor_.get_executor(), [this] {
    error_code ec;
    acceptor_.close(ec);
  });
  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard lock(mu_);
    for (auto& w : sessions_)
      if (auto s = w.lock()) live.push_back(std::move(s));
  }
  for (auto& s : live) s->stop();
  live.clear();
  // Whatever is still running after the grace period is cut off. The timer is armed on its strand, and
  // only while sessions remain: the last session to end posts a cancel to the same strand.
  net::post(grace_timer_.get_executor(), [this] {
    {
      std::lock_guard lock(mu_);
      if (live_sessions_ == 0) return;
    }
    grace_timer_.expires_after(kShutdownGrace);
    grace_timer_.async_wait([this](error_code ec) {
      if (!ec) {
        log_event(villager::LogLevel::kWarn, "send", "shutdown_forced", {{"after", "grace period"}});
        ioc_.stop();
      }
    });
  });
}

}  // namespace send_server
