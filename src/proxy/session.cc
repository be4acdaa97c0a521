#include "proxy/session.h"

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>
#include <utility>

namespace villager::proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using beast::error_code;

namespace {

// Upstream response headers may be larger than what we accept from clients (cookies, CSPs).
constexpr uint32_t kMaxUpstreamHeaderBytes = 64 * 1024;
// Bodies up to this size are copied behind the head and sent with it as one buffer.
constexpr size_t kInlineBodyBytes = 16 * 1024;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

bool is_http_error(const error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_method).category();
}

// A pooled connection the upstream already closed reads as EOF (or has junk pending). One non-blocking
// peek tells; used only for requests we may not retry, since it costs a syscall.
bool looks_closed(TcpSocket& s) {
  char byte;
  ssize_t n = ::recv(s.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n < 0) return !(errno == EAGAIN || errno == EWOULDBLOCK);
  return true;  // 0 = orderly close; >0 = bytes nobody asked for
}

// RFC 9112 5.2: a field value continued on the next line (obs-fold). Beast joins such lines with spaces;
// the proxy refuses them instead, as a release behind it could read them differently.
bool has_obs_fold(const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  const char* end = p + n;
  while ((p = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)))) != nullptr) {
    if (++p == end) break;
    if (*p == ' ' || *p == '\t') return true;
  }
  return false;
}

std::string millis(std::chrono::milliseconds d) {
  return std::to_string(d.count()) + "ms";
}

}  // namespace

Session::Session(Worker& worker, TcpSocket socket)
    : worker_(worker), socket_(std::move(socket)), timer_(worker.ioc()) {}

Session::~Session() {
  if (registered_) worker_.remove_session(registration_);
}

void Session::start() {
  registration_ = worker_.add_session(this);
  registered_ = true;
  error_code ec;
  auto remote = socket_.remote_endpoint(ec);
  if (ec) {
    close();
    return;
  }
  peer_ = remote.address().to_string();
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  read_header();
}

bool Session::idle() const {
  return phase_ == Phase::kReadingHeader && buffer_.size() == 0;
}

void Session::close() {
  if (phase_ == Phase::kClosed) return;
  phase_ = Phase::kClosed;
  error_code ignored;
  socket_.close(ignored);
  // The upstream connection is only closed here, not freed: a pending operation may still use its
  // buffer; its handler sees kClosed and lets go of it.
  if (upstream_) upstream_->socket.close(ignored);
  timer_.cancel();
}

// ---- client side: reading a request ----

void Session::read_header() {
  if (worker_.stopping()) {
    close();
    return;
  }
  phase_ = Phase::kReadingHeader;
  const ProxyLimits& limits = worker_.limits();
  parser_.emplace();
  parser_->header_limit(static_cast<uint32_t>(limits.max_header_bytes));
  parser_->body_limit(limits.max_body_bytes);
  set_deadline(limits.idle_timeout);
  pump(Reading::kHeader);
}

void Session::on_read_header(error_code ec) {
  if (phase_ == Phase::kClosed) return;
  if (worker_.observer()) started_ = Clock::now();
  if (ec) {
    fail_read(ec);
    return;
  }
  if (std::string problem = framing_problem(parser_->get()); !problem.empty()) {
    // Nothing was sent upstream yet; the stream is out of sync, so answer and close.
    fail_framing(problem);
    return;
  }
  if (parser_->is_done()) {
    route();
    return;
  }
  if (parser_->get().version() >= 11 && beast::iequals(parser_->get()[http::field::expect], "100-continue")) {
    // The client waits for this before sending the body; the limits were already checked on the header.
    phase_ = Phase::kWriting;
    set_deadline(worker_.limits().request_timeout);
    asio::async_write(socket_, asio::buffer(kContinue.data(), kContinue.size()),
                      [self = shared_from_this()](error_code ec, size_t) {
                        if (self->phase_ == Phase::kClosed) return;
                        if (ec) return self->close();
                        self->read_body();
                      });
    return;
  }
  read_body();
}

void Session::read_body() {
  phase_ = Phase::kReadingBody;
  set_deadline(worker_.limits().request_timeout);
  pump(Reading::kBody);
}

void Session::on_read_body(error_code ec) {
  if (phase_ == Phase::kClosed) return;
  if (ec) {
    fail_read(ec);
    return;
  }
  route();
}

void Session::fail_framing(std::string_view problem) {
  client_version_ = 11;
  head_request_ = false;
  routes_.reset();
  answer_error(http::status::bad_request, "malformed request: " + std::string(problem), false);
}

void Session::fail_read(error_code ec) {
  client_version_ = 11;
  head_request_ = false;
  routes_.reset();
  const ProxyLimits& limits = worker_.limits();
  // A request we could not parse leaves the stream out of sync: answer, then close.
  if (ec == http::error::header_limit) {
    answer_error(http::status::request_header_fields_too_large,
                 "request header larger than " + std::to_string(limits.max_header_bytes) + " bytes", false);
  } else if (ec == http::error::body_limit) {
    answer_error(http::status::payload_too_large,
                 "request body larger than " + std::to_string(limits.max_body_bytes) + " bytes", false);
  } else if (ec == http::error::end_of_stream || ec == http::error::partial_message || !is_http_error(ec)) {
    close();  // the client went away (or the deadline closed it)
  } else {
    answer_error(http::status::bad_request, "malformed request: " + ec.message(), false);
  }
}

// ---- reading a message ----
//
// What Beast's http::async_read does, written out: feed what is buffered to the parser, read more when it
// needs more, until the header (kHeader) or the whole message is parsed. Beast's version stacks three
// composed operations, each holding work-tracking executors, per read; this loop costs one lambda.

void Session::pump(Reading what) {
  const bool upstream = what == Reading::kResponse;
  beast::flat_buffer& buffer = upstream ? upstream_->buffer : buffer_;
  error_code ec;
  while (!satisfied(what) && buffer.size() > 0) {
    const size_t used = upstream ? res_parser_->put(buffer.data(), ec) : parser_->put(buffer.data(), ec);
    // Beast takes a request header only whole, so these bytes are all of it.
    if (what == Reading::kHeader && !ec && satisfied(what) && has_obs_fold(buffer.data().data(), used))
      return fail_framing("obsolete line folding");
    buffer.consume(used);
    if (ec == http::error::need_more) {
      ec = {};
      break;
    }
    if (ec) return finish_read(what, ec);
    if (used == 0) break;
  }
  if (satisfied(what)) return finish_read(what, {});
  // Room for what is likely to come: at least 512 bytes, at most 64 KiB per read.
  const size_t room = std::clamp<size_t>(buffer.capacity() - buffer.size(), 512, 64 * 1024);
  TcpSocket& socket = upstream ? upstream_->socket : socket_;
  socket.async_read_some(buffer.prepare(room), [self = shared_from_this(), what](error_code ec, size_t n) {
    self->on_pump(what, ec, n);
  });
}

void Session::on_pump(Reading what, error_code ec, size_t n) {
  if (phase_ == Phase::kClosed) return;
  const bool upstream = what == Reading::kResponse;
  if (ec == asio::error::eof) {
    const bool got_some = upstream ? res_parser_->got_some() : parser_->got_some();
    if (!got_some) return finish_read(what, http::error::end_of_stream);
    // A body delimited by the close ends here; anything else is cut short (partial_message).
    ec = {};
    if (upstream) {
      res_parser_->put_eof(ec);
    } else {
      parser_->put_eof(ec);
    }
    return finish_read(what, ec);
  }
  if (ec) return finish_read(what, ec);
  (upstream ? upstream_->buffer : buffer_).commit(n);
  pump(what);
}

bool Session::satisfied(Reading what) const {
  switch (what) {
    case Reading::kHeader:
      return parser_->is_header_done();
    case Reading::kBody:
      return parser_->is_done();
    case Reading::kResponse:
      return res_parser_->is_done();
  }
  return false;
}

void Session::finish_read(Reading what, error_code ec) {
  switch (what) {
    case Reading::kHeader:
      return on_read_header(ec);
    case Reading::kBody:
      return on_read_body(ec);
    case Reading::kResponse:
      return on_upstream_read(ec);
  }
}

// ---- routing and the upstream side ----

void Session::route() {
  req_ = parser_->release();
  parser_.reset();
  client_version_ = req_.version();
  client_keep_alive_ = req_.keep_alive();
  head_request_ = req_.method() == http::verb::head;
  idempotent_ = is_idempotent(req_.method());
  retried_ = false;
  upstream_timed_out_ = false;
  bytes_in_ = req_.body().size();

  // One snapshot per request: everything below uses routes_, never the live table.
  routes_ = worker_.routes();
  const RouteTable& table = *routes_->table;
  std::string_view cookie;
  if (!table.sticky_cookie.empty()) cookie = req_[http::field::cookie];
  RouteChoice choice = choose(table, cookie, worker_.random());
  if (choice.upstream == nullptr) {
    routes_.reset();
    answer_error(http::status::service_unavailable, "no route: no release takes traffic", client_keep_alive_);
    return;
  }
  upstream_index_ = static_cast<size_t>(choice.upstream - table.upstreams.data());
  set_cookie_ = choice.set_cookie;

  strip_hop_by_hop(req_);
  req_.erase(http::field::expect);
  add_forwarded(req_, peer_, "http", worker_.client_forwarded());
  req_.version(11);
  // A chunked body was de-chunked by the parser and Transfer-Encoding stripped: send a length instead.
  if (!req_.body().empty() || req_.count(http::field::content_length) > 0)
    req_.content_length(req_.body().size());

  upstream_ = worker_.pool().acquire(routes_->keys[upstream_index_]);
  if (upstream_ && !idempotent_ && looks_closed(upstream_->socket)) drop_upstream();
  if (upstream_) {
    send_upstream();
  } else {
    connect_upstream();
  }
}

void Session::connect_upstream() {
  const auto& endpoint = routes_->endpoints[upstream_index_];
  const Upstream& target = routes_->table->upstreams[upstream_index_];
  if (!endpoint) {
    answer_error(http::status::bad_gateway,
                 "upstream " + target.release_id + " at " + target.host + ": host does not resolve",
                 client_keep_alive_);
    return;
  }
  upstream_ = std::make_unique<UpstreamConnection>(worker_.ioc());
  upstream_->key = routes_->keys[upstream_index_];
  upstream_->release_id = target.release_id;
  WorkerCounters::bump(worker_.counters().upstream_connects);
  phase_ = Phase::kConnecting;
  set_deadline(worker_.limits().upstream_connect_timeout);
  upstream_->socket.async_connect(*endpoint,
                                  [self = shared_from_this()](error_code ec) { self->on_connect(ec); });
}

void Session::on_connect(error_code ec) {
  if (phase_ == Phase::kClosed) return;
  if (ec || upstream_timed_out_) {
    upstream_failed(ec, false);
    return;
  }
  upstream_->socket.set_option(asio::ip::tcp::no_delay(true), ec);
  send_upstream();
}

void Session::send_upstream() {
  phase_ = Phase::kUpstream;
  set_deadline(worker_.limits().upstream_timeout);
  serialize_head(req_, wire_);
  async_write_message(upstream_->socket, req_.body(),
                      [self = shared_from_this()](error_code ec, size_t) { self->on_upstream_write(ec); });
}

void Session::on_upstream_write(error_code ec) {
  if (phase_ == Phase::kClosed) return;
  if (ec || upstream_timed_out_) {
    upstream_failed(ec, false);
    return;
  }
  res_parser_.emplace();
  res_parser_->header_limit(kMaxUpstreamHeaderBytes);
  res_parser_->body_limit(worker_.limits().max_response_bytes);
  if (head_request_) res_parser_->skip(true);
  pump(Reading::kResponse);
}

void Session::on_upstream_read(error_code ec) {
  if (phase_ == Phase::kClosed) return;
  if (ec || upstream_timed_out_) {
    upstream_failed(ec, res_parser_->got_some());
    return;
  }
  res_ = res_parser_->release();
  res_parser_.reset();
  // Back to the pool before answering the client, so the next request can use it at once.
  if (res_.keep_alive() && upstream_->buffer.size() == 0) {
    worker_.release_upstream(std::move(upstream_));
  } else {
    drop_upstream();
  }

  strip_hop_by_hop(res_);
  res_.version(client_version_);
  const unsigned code = res_.result_int();
  const bool bodiless = head_request_ || code / 100 == 1 || code == 204 || code == 304;
  // The body is buffered whole, so a length replaces whatever framing the upstream used.
  if (!bodiless) res_.content_length(res_.body().size());
  if (set_cookie_) {
    const RouteTable& table = *routes_->table;
    res_.insert(http::field::set_cookie, table.sticky_cookie + "=" +
                                             table.upstreams[upstream_index_].release_id +
                                             "; Path=/; HttpOnly; SameSite=Lax");
  }
  res_.keep_alive(client_keep_alive_ && !worker_.stopping());
  write_response();
}

void Session::upstream_failed(error_code ec, bool got_response_bytes) {
  const bool timed_out = upstream_timed_out_;
  upstream_timed_out_ = false;
  const bool was_connecting = phase_ == Phase::kConnecting;
  const bool stale = upstream_ && upstream_->reused && !got_response_bytes && !timed_out;
  drop_upstream();
  const Upstream& target = routes_->table->upstreams[upstream_index_];
  const std::string who = "upstream " + target.release_id + " at " +
                          routes_->keys[upstream_index_].substr(target.release_id.size() + 1);
  const ProxyLimits& limits = worker_.limits();
  if (timed_out) {
    answer_error(
        http::status::gateway_timeout,
        who + (was_connecting ? ": connect timed out after " + millis(limits.upstream_connect_timeout)
                              : ": no response within " + millis(limits.upstream_timeout)),
        client_keep_alive_);
    return;
  }
  // The retry rule: a pooled connection that fails before any response byte was closed by the upstream
  // while idle (a restart, a keep-alive timeout, a drained release). An idempotent request is sent once
  // more on a fresh connection; that is what keeps route swaps and restarts at zero failed requests.
  if (stale && idempotent_ && !retried_) {
    retried_ = true;
    WorkerCounters::bump(worker_.counters().stale_retries);
    connect_upstream();
    return;
  }
  answer_error(http::status::bad_gateway, who + ": " + ec.message(), client_keep_alive_);
}

void Session::drop_upstream() {
  if (!upstream_) return;
  error_code ignored;
  upstream_->socket.close(ignored);
  upstream_.reset();
}

// ---- client side: writing the answer ----

void Session::answer_error(http::status status, std::string_view message, bool keep_alive) {
  res_ = error_response(status, message, client_version_, keep_alive && !worker_.stopping());
  write_response();
}

void Session::write_response() {
  phase_ = Phase::kWriting;
  set_deadline(worker_.limits().request_timeout);
  serialize_head(res_, wire_);
  // A response to HEAD carries the length of a body it does not send (our own error answers too).
  async_write_message(socket_, head_request_ ? std::string_view() : std::string_view(res_.body()),
                      [self = shared_from_this()](error_code ec, size_t) { self->on_write(ec); });
}

void Session::on_write(error_code ec) {
  if (phase_ == Phase::kClosed) return;
  if (const RequestObserver& observer = worker_.observer()) {
    RequestRecord record;
    if (routes_) record.release_id = routes_->table->upstreams[upstream_index_].release_id;
    record.status = static_cast<int>(res_.result_int());
    record.latency_us = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started_).count());
    record.bytes_in = bytes_in_;
    record.bytes_out = res_.body().size();
    observer(record);
  }
  WorkerCounters::bump(worker_.counters().requests);
  routes_.reset();
  if (ec) {
    close();
    return;
  }
  if (!res_.keep_alive()) {
    error_code ignored;
    socket_.shutdown(TcpSocket::shutdown_send, ignored);
    close();
    return;
  }
  read_header();
}

template <class Handler>
void Session::async_write_message(TcpSocket& socket, std::string_view body, Handler&& handler) {
  // wire_ holds the head. A small body joins it, so the message leaves in one send() of one buffer.
  if (body.size() <= kInlineBodyBytes) {
    wire_.append(body);
    asio::async_write(socket, asio::buffer(wire_), std::forward<Handler>(handler));
    return;
  }
  std::array<asio::const_buffer, 2> buffers{asio::buffer(wire_), asio::buffer(body)};
  asio::async_write(socket, buffers, std::forward<Handler>(handler));
}

// ---- the deadline ----

void Session::set_deadline(std::chrono::milliseconds d) {
  deadline_ = Clock::now() + d;
  if (!timer_waiting_) {
    wait_timer();
  } else if (deadline_ < timer_.expiry()) {
    // Cancels the pending wait; its handler re-arms at the new, earlier deadline.
    timer_.expires_at(deadline_);
  }
}

void Session::wait_timer() {
  timer_waiting_ = true;
  timer_.expires_at(deadline_);
  timer_.async_wait([self = shared_from_this()](error_code) { self->on_timer(); });
}

void Session::on_timer() {
  timer_waiting_ = false;
  if (phase_ == Phase::kClosed) return;
  if (Clock::now() < deadline_) {
    wait_timer();
    return;
  }
  deadline_ = Clock::time_point::max();
  if ((phase_ == Phase::kConnecting || phase_ == Phase::kUpstream) && upstream_) {
    // The pending upstream operation ends with an error; upstream_failed answers 504.
    upstream_timed_out_ = true;
    error_code ignored;
    upstream_->socket.close(ignored);
    return;
  }
  close();
}

}  // namespace villager::proxy
