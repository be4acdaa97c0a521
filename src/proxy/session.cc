#include "proxy/session.h"

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstdio>
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
// A body with a Content-Length up to this is read whole before it is forwarded (and a request stays
// retryable); larger ones and chunked or close-delimited ones are relayed.
constexpr size_t kSmallBodyBytes = kInlineBodyBytes;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
// How long a refused request's remaining bytes are read and discarded before the connection is closed;
// on TLS, how long the peer's close_notify is waited for.
constexpr std::chrono::milliseconds kLingerTime{2'000};
// Bytes moved per read on an upgraded connection, each way: bounds a tunnel's memory (2 x this).
constexpr size_t kTunnelPieceBytes = 16 * 1024;

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

// Feeds what `in` holds to `parser` until it is done, wants more input, or its body buffer is full.
template <class Parser>
error_code feed(Parser& parser, beast::flat_buffer& in) {
  error_code ec;
  while (in.size() > 0 && !parser.is_done()) {
    const size_t used = parser.put(in.data(), ec);
    in.consume(used);
    if (ec == http::error::need_buffer || ec == http::error::need_more) return {};
    if (ec) return ec;
    if (used == 0) break;
  }
  return {};
}

}  // namespace

Session::Session(Worker& worker, TcpSocket socket)
    : worker_(worker), stream_(std::move(socket)), timer_(worker.ioc()) {}

Session::~Session() {
  end_inflight();
  if (tunnel_registered_) worker_.remove_tunnel(tunnel_registration_, tunnel_release_);
  if (admitted_) worker_.connection_limits().release(peer_);
  if (registered_) worker_.remove_session(registration_);
}

void Session::start() {
  registration_ = worker_.add_session(this);
  registered_ = true;
  error_code ec;
  auto remote = stream_.tcp().remote_endpoint(ec);
  if (ec) {
    close();
    return;
  }
  peer_ = remote.address().to_string();
  // Over a cap the connection is still read up to its request header, to answer 503 rather than reset.
  admit_ = worker_.connection_limits().admit(peer_);
  admitted_ = admit_ == ConnectionLimits::Admit::kOk;
  stream_.tcp().set_option(asio::ip::tcp::no_delay(true), ec);
  CertStore* tls = worker_.tls();
  if (tls == nullptr) return read_header();
  // The certificates of this moment: a reload later changes new handshakes only.
  certs_ = tls->current();
  stream_.use_tls(certs_->default_context());
  phase_ = Phase::kHandshake;
  set_deadline(worker_.limits().tls_handshake_timeout);
  stream_.async_handshake([self = shared_from_this()](error_code ec) { self->on_handshake(ec); });
}

void Session::on_handshake(error_code ec) {
  if (phase_ == Phase::kClosed) return;
  if (ec) {
    // A TLS 1.0 client, a plain-HTTP client, a scanner: counted, not logged per connection.
    WorkerCounters::bump(worker_.counters().tls_failures);
    return close();
  }
  WorkerCounters::bump(worker_.counters().tls_handshakes);
  read_header();
}

bool Session::idle() const {
  return (phase_ == Phase::kReadingHeader && buffer_.size() == 0) || phase_ == Phase::kHandshake;
}

void Session::close() {
  if (phase_ == Phase::kClosed) return;
  phase_ = Phase::kClosed;
  end_inflight();
  error_code ignored;
  stream_.tcp().close(ignored);
  // The upstream connection is only closed here, not freed: a pending operation may still use its
  // buffer; its handler sees kClosed and lets go of it.
  if (upstream_) upstream_->socket.close(ignored);
  timer_.cancel();
  if (tunnel_registered_) {
    tunnel_registered_ = false;
    worker_.remove_tunnel(tunnel_registration_, tunnel_release_);
  }
}

// ---- client side: reading a request ----

void Session::read_header() {
  if (worker_.stopping()) {
    close();
    return;
  }
  phase_ = Phase::kReadingHeader;
  const ProxyLimits& limits = worker_.limits();
  unread_request_ = false;
  parser_.emplace();
  parser_->header_limit(static_cast<uint32_t>(limits.max_header_bytes));
  parser_->body_limit(limits.max_body_bytes);
  res_parser_.reset();
  chunk_.reset();  // a streamed message's buffers are not kept by an idle connection
  trim_idle_buffer(buffer_);
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
  streamed_request_ = false;
  body_ = {};
  bytes_in_ = 0;
  if (admit_ != ConnectionLimits::Admit::kOk) {
    unread_request_ = true;
    shed(admit_ == ConnectionLimits::Admit::kTooManyConnections
             ? "too many connections: " + std::to_string(worker_.limits().max_connections) + " open"
             : "too many connections from this client: " +
                   std::to_string(worker_.limits().max_connections_per_ip) + " open",
         false);
    return;
  }
  if (worker_.redirect_https_port() != 0) return redirect_to_https();
  if (parser_->is_done()) {
    route();
    return;
  }
  if (parser_->get().version() >= 11 && beast::iequals(parser_->get()[http::field::expect], "100-continue")) {
    // The client waits for this before sending the body; the limits were already checked on the header.
    phase_ = Phase::kWriting;
    set_deadline(worker_.limits().request_timeout);
    stream_.async_write(asio::buffer(kContinue.data(), kContinue.size()),
                        [self = shared_from_this()](error_code ec, size_t) {
                          if (self->phase_ == Phase::kClosed) return;
                          if (ec) return self->close();
                          self->start_body();
                        });
    return;
  }
  start_body();
}

// A small body with a length is read whole; any other is relayed, starting with what is buffered now.
void Session::start_body() {
  auto& body = parser_->get().body();
  if (auto length = parser_->content_length(); length && *length <= kSmallBodyBytes) {
    small_.resize(static_cast<size_t>(*length));
    body.data = small_.data();
    body.size = small_.size();
    phase_ = Phase::kReadingBody;
    set_deadline(worker_.limits().request_timeout);
    pump(Reading::kBody);
    return;
  }
  body.data = chunk();
  body.size = worker_.limits().stream_buffer_bytes;
  if (error_code ec = feed(*parser_, buffer_)) {
    fail_read(ec);  // an invalid chunk size in the first bytes never reaches the upstream
    return;
  }
  const size_t n = worker_.limits().stream_buffer_bytes - body.size;
  body_ = std::string_view(chunk_.get(), n);
  // The whole body is already here: it goes with a length, like a small one.
  streamed_request_ = !parser_->is_done();
  route();
}

void Session::on_read_body(error_code ec) {
  if (phase_ == Phase::kClosed) return;
  if (ec) {
    fail_read(ec);
    return;
  }
  body_ = small_;
  route();
}

// A plain listener in front of an HTTPS one: every request is answered 308 to the same URL on HTTPS.
void Session::redirect_to_https() {
  auto& req = parser_->get();
  routes_.reset();
  client_version_ = req.version();
  head_request_ = req.method() == http::verb::head;
  // A request body is never read here, so the connection cannot carry another request after one.
  const bool whole = parser_->is_done();
  unread_request_ = !whole;
  const std::string location = https_location(req, worker_.redirect_https_port());
  if (location.empty()) {
    answer_error(http::status::bad_request, "a redirect to HTTPS needs a Host header naming a host", false);
    return;
  }
  WorkerCounters::bump(worker_.counters().redirects);
  error_ = redirect_response(location, client_version_, whole && req.keep_alive() && !worker_.stopping());
  res_parser_.reset();
  status_ = error_.result_int();
  answer_keep_alive_ = error_.keep_alive();
  body_ = error_.body();
  write_answer();
}

void Session::fail_framing(std::string_view problem) {
  unread_request_ = true;
  client_version_ = 11;
  head_request_ = false;
  routes_.reset();
  answer_error(http::status::bad_request, "malformed request: " + std::string(problem), false);
}

void Session::fail_read(error_code ec) {
  unread_request_ = true;
  client_version_ = 11;
  head_request_ = false;
  routes_.reset();
  drop_upstream();
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
// needs more, until the header or the whole (small) message is parsed. Beast's version stacks three
// composed operations, each holding work-tracking executors, per read; this loop costs one lambda.

void Session::pump(Reading what) {
  const bool upstream = what == Reading::kResponseHeader || what == Reading::kResponseBody;
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
  auto on_read = [self = shared_from_this(), what](error_code ec, size_t n) { self->on_pump(what, ec, n); };
  if (upstream) {
    upstream_->socket.async_read_some(buffer.prepare(room), std::move(on_read));
  } else {
    stream_.async_read_some(buffer.prepare(room), std::move(on_read));
  }
}

void Session::on_pump(Reading what, error_code ec, size_t n) {
  if (phase_ == Phase::kClosed) return;
  const bool upstream = what == Reading::kResponseHeader || what == Reading::kResponseBody;
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
    case Reading::kResponseHeader:
      return res_parser_->is_header_done();
    case Reading::kResponseBody:
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
    case Reading::kResponseHeader:
      return on_response_header(ec);
    case Reading::kResponseBody:
      return on_response_body(ec);
  }
}

// ---- routing and the upstream side ----

void Session::route() {
  auto& req = parser_->get();
  client_version_ = req.version();
  client_keep_alive_ = req.keep_alive();
  head_request_ = req.method() == http::verb::head;
  idempotent_ = is_idempotent(req.method());
  retried_ = false;
  upstream_timed_out_ = false;
  if (!streamed_request_) bytes_in_ = body_.size();

  // One snapshot per request: everything below uses routes_, never the live table.
  routes_ = worker_.routes();
  const RouteTable& table = *routes_->table;
  std::string_view cookie;
  if (!table.sticky_cookie.empty()) {
    const auto value = req[http::field::cookie];
    cookie = std::string_view(value.data(), value.size());
  }
  RouteChoice choice = choose(table, cookie, worker_.random());
  if (choice.upstream == nullptr) {
    routes_.reset();
    // A relayed body was not read to its end, so the connection cannot carry another request.
    answer_error(http::status::service_unavailable, "no route: no release takes traffic",
                 client_keep_alive_ && !streamed_request_);
    return;
  }
  upstream_index_ = static_cast<size_t>(choice.upstream - table.upstreams.data());
  set_cookie_ = choice.set_cookie;
  size_t& inflight = worker_.inflight(choice.upstream->release_id);
  if (const size_t cap = worker_.limits().max_inflight_per_release; cap > 0 && inflight >= cap) {
    // The release already has all it may take: shed now rather than queue without bound.
    const std::string release = choice.upstream->release_id;
    routes_.reset();
    if (streamed_request_) unread_request_ = true;
    shed("release " + release + " is saturated: " + std::to_string(cap) + " requests in flight",
         client_keep_alive_ && !streamed_request_);
    return;
  }
  ++inflight;
  inflight_ = &inflight;

  // Only a request without a body may switch protocols: its connection is the tunnel's from the 101.
  upgrade_ = wants_upgrade(req) && parser_->is_done();
  if (upgrade_) upgrade_protocol_ = std::string(req[http::field::upgrade]);
  strip_hop_by_hop(req);
  if (upgrade_) {
    req.set(http::field::connection, "upgrade");
    req.set(http::field::upgrade, upgrade_protocol_);
  }
  req.erase(http::field::expect);
  add_forwarded(req, peer_, stream_.tls() ? "https" : "http", worker_.client_forwarded());
  req.version(11);
  // The framing the release sees is one the proxy chose: a length, or (a relayed chunked body) chunked.
  if (streamed_request_ && parser_->chunked()) {
    request_out_ = Framing::kChunked;
    req.set(http::field::transfer_encoding, "chunked");
  } else if (streamed_request_) {
    request_out_ = Framing::kLength;
    req.content_length(parser_->content_length());
  } else if (!body_.empty() || req.count(http::field::content_length) > 0 || parser_->chunked()) {
    req.content_length(body_.size());
  }

  upstream_ = worker_.pool().acquire(routes_->keys[upstream_index_]);
  // Only a request that can be sent again may rely on the retry rule; the others check the connection.
  if (upstream_ && (!idempotent_ || streamed_request_) && looks_closed(upstream_->socket)) drop_upstream();
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
                 client_keep_alive_ && !streamed_request_);
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
  serialize_head(parser_->get(), wire_);
  if (streamed_request_) {
    // The head, then what was buffered of the body, then the relay.
    write_stream(Stream::kRequest, body_.size(), parser_->is_done());
    return;
  }
  async_write_message(upstream_->socket, body_,
                      [self = shared_from_this()](error_code ec, size_t) { self->on_upstream_write(ec); });
}

void Session::on_upstream_write(error_code ec) {
  if (phase_ == Phase::kClosed) return;
  if (ec || upstream_timed_out_) {
    upstream_failed(ec, false);
    return;
  }
  read_response_header();
}

void Session::read_response_header() {
  phase_ = Phase::kUpstream;
  set_deadline(worker_.limits().upstream_timeout);
  res_parser_.emplace();
  res_parser_->header_limit(kMaxUpstreamHeaderBytes);
  const size_t limit = worker_.limits().max_response_bytes;
  res_parser_->body_limit(limit > 0 ? boost::optional<uint64_t>(limit) : boost::none);
  if (head_request_) res_parser_->skip(true);
  pump(Reading::kResponseHeader);
}

void Session::on_response_header(error_code ec) {
  if (phase_ == Phase::kClosed) return;
  if (ec || upstream_timed_out_) {
    upstream_failed(ec, res_parser_->got_some());
    return;
  }
  auto& res = res_parser_->get();
  status_ = res.result_int();
  // An interim answer (103 Early Hints, a stray 100) is not the response: read the next one.
  if (status_ / 100 == 1 && status_ != 101) {
    read_response_header();
    return;
  }
  if (status_ == 101 && !upgrade_) {
    drop_upstream();
    const Upstream& target = routes_->table->upstreams[upstream_index_];
    answer_error(http::status::bad_gateway,
                 "upstream " + target.release_id + " switched protocols for a request that asked for none",
                 client_keep_alive_ && !streamed_request_);
    return;
  }
  const std::string upgraded_to = status_ == 101 ? std::string(res[http::field::upgrade]) : std::string();
  // The parser knows a close-delimited body too: such a connection never goes back to the pool.
  upstream_keep_alive_ = res_parser_->keep_alive();
  strip_hop_by_hop(res);
  res.version(client_version_);
  if (set_cookie_) {
    const RouteTable& table = *routes_->table;
    res.insert(http::field::set_cookie, table.sticky_cookie + "=" +
                                            table.upstreams[upstream_index_].release_id +
                                            "; Path=/; HttpOnly; SameSite=Lax");
  }
  if (status_ == 101) {
    res.set(http::field::connection, "upgrade");
    if (!upgraded_to.empty()) res.set(http::field::upgrade, upgraded_to);
    return start_tunnel();
  }
  answer_keep_alive_ = client_keep_alive_ && !worker_.stopping();
  if (res_parser_->is_done()) {  // no body: HEAD, 1xx, 204, 304 or a length of 0
    body_ = {};
    finish_upstream();
    write_answer();
    return;
  }
  auto& body = res.body();
  if (auto length = res_parser_->content_length(); length && *length <= kSmallBodyBytes) {
    small_.resize(static_cast<size_t>(*length));
    body.data = small_.data();
    body.size = small_.size();
    pump(Reading::kResponseBody);
    return;
  }
  body.data = chunk();
  body.size = worker_.limits().stream_buffer_bytes;
  if (error_code feed_ec = feed(*res_parser_, upstream_->buffer)) {
    upstream_failed(feed_ec, true);
    return;
  }
  const size_t n = worker_.limits().stream_buffer_bytes - body.size;
  if (res_parser_->is_done()) {  // the whole body was already here: it goes with a length
    body_ = std::string_view(chunk_.get(), n);
    res.content_length(n);
    finish_upstream();
    write_answer();
    return;
  }
  start_response_stream(n);
}

void Session::on_response_body(error_code ec) {
  if (phase_ == Phase::kClosed) return;
  if (ec || upstream_timed_out_) {
    upstream_failed(ec, true);
    return;
  }
  body_ = small_;
  finish_upstream();
  write_answer();
}

// The head goes out at once with what is buffered of the body (a server-sent event stream's first
// event reaches the client as soon as the release sends it), then the relay.
void Session::start_response_stream(size_t first_bytes) {
  auto& res = res_parser_->get();
  if (auto length = res_parser_->content_length()) {
    response_out_ = Framing::kLength;
    res.content_length(*length);
  } else if (client_version_ >= 11) {
    response_out_ = Framing::kChunked;
    res.set(http::field::transfer_encoding, "chunked");
  } else {
    // An HTTP/1.0 client knows no chunks: the body ends when the connection closes.
    response_out_ = Framing::kClose;
    answer_keep_alive_ = false;
  }
  res.keep_alive(answer_keep_alive_);
  serialize_head(res, wire_);
  write_stream(Stream::kResponse, first_bytes, false);
}

// The response was read to its end: the upstream connection goes back to the pool when it may.
void Session::finish_upstream() {
  if (upstream_keep_alive_ && upstream_->buffer.size() == 0) {
    worker_.release_upstream(std::move(upstream_));
  } else {
    drop_upstream();
  }
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
  // A relayed request body was not read to its end: the client connection cannot go on.
  const bool keep_alive = client_keep_alive_ && !streamed_request_;
  if (timed_out) {
    answer_error(
        http::status::gateway_timeout,
        who + (was_connecting ? ": connect timed out after " + millis(limits.upstream_connect_timeout)
                              : ": no response within " + millis(limits.upstream_timeout)),
        keep_alive);
    return;
  }
  // The retry rule: a pooled connection that fails before any response byte was closed by the upstream
  // while idle (a restart, a keep-alive timeout, a drained release). An idempotent request is sent once
  // more on a fresh connection; that is what keeps route swaps and restarts at zero failed requests.
  // A relayed body is gone once sent, so such a request is never retried.
  if (stale && idempotent_ && !retried_ && !streamed_request_) {
    retried_ = true;
    WorkerCounters::bump(worker_.counters().stale_retries);
    connect_upstream();
    return;
  }
  if (ec == http::error::body_limit) {
    answer_error(http::status::bad_gateway,
                 who + ": response body larger than " + std::to_string(limits.max_response_bytes) + " bytes",
                 keep_alive);
    return;
  }
  answer_error(http::status::bad_gateway, who + ": " + ec.message(), keep_alive);
}

void Session::drop_upstream() {
  if (!upstream_) return;
  error_code ignored;
  upstream_->socket.close(ignored);
  upstream_.reset();
}

// ---- client side: writing the answer ----

void Session::shed(std::string_view message, bool keep_alive) {
  WorkerCounters::bump(worker_.counters().shed);
  error_ = error_response(http::status::service_unavailable, message, client_version_,
                          keep_alive && !worker_.stopping());
  error_.set(http::field::retry_after, std::to_string(worker_.limits().retry_after.count()));
  res_parser_.reset();
  status_ = error_.result_int();
  answer_keep_alive_ = error_.keep_alive();
  body_ = error_.body();
  write_answer();
}

void Session::end_inflight() {
  if (inflight_ == nullptr) return;
  --*inflight_;
  inflight_ = nullptr;
}

void Session::answer_error(http::status status, std::string_view message, bool keep_alive) {
  error_ = error_response(status, message, client_version_, keep_alive && !worker_.stopping());
  res_parser_.reset();
  status_ = error_.result_int();
  answer_keep_alive_ = error_.keep_alive();
  body_ = error_.body();
  write_answer();
}

void Session::write_answer() {
  phase_ = Phase::kWriting;
  set_deadline(worker_.limits().request_timeout);
  if (res_parser_) {
    auto& res = res_parser_->get();
    // The body is whole here, so a length replaces whatever framing the upstream used.
    const bool bodiless = head_request_ || status_ / 100 == 1 || status_ == 204 || status_ == 304;
    if (!bodiless) res.content_length(body_.size());
    res.keep_alive(answer_keep_alive_);
    serialize_head(res, wire_);
  } else {
    serialize_head(error_, wire_);
  }
  bytes_out_ = body_.size();
  // A response to HEAD carries the length of a body it does not send (our own error answers too).
  async_write_message(stream_, head_request_ ? std::string_view() : body_,
                      [self = shared_from_this()](error_code ec, size_t) { self->on_write(ec); });
}

void Session::on_write(error_code ec) {
  if (phase_ == Phase::kClosed) return;
  record();
  if (ec) {
    close();
    return;
  }
  if (!answer_keep_alive_) return end_connection();
  read_header();
}

void Session::end_connection() {
  if (stream_.tls()) {
    // close_notify tells the client the answer is complete (a close-delimited body's end included).
    phase_ = Phase::kLingering;
    set_deadline(kLingerTime);
    stream_.async_shutdown([self = shared_from_this()](error_code) { self->close(); });
    return;
  }
  error_code ignored;
  stream_.tcp().shutdown(TcpSocket::shutdown_send, ignored);
  if (unread_request_) return linger();
  close();
}

// Closing with unread request bytes makes the kernel send a reset, and a reset can make the client's
// kernel drop the answer before the client reads it. So after refusing a request whose body is still
// arriving, read and discard until the client closes or kLingerTime passes, then close.
void Session::linger() {
  phase_ = Phase::kLingering;
  set_deadline(kLingerTime);
  buffer_.clear();
  stream_.async_read_some(buffer_.prepare(16 * 1024), [self = shared_from_this()](error_code ec, size_t) {
    if (self->phase_ == Phase::kClosed) return;
    if (ec) return self->close();
    self->linger();
  });
}

void Session::record() {
  if (const RequestObserver& observer = worker_.observer()) {
    RequestRecord record;
    if (routes_) record.release_id = routes_->table->upstreams[upstream_index_].release_id;
    record.status = static_cast<int>(status_);
    record.latency_us = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started_).count());
    record.bytes_in = bytes_in_;
    record.bytes_out = bytes_out_;
    record.upgraded = phase_ == Phase::kTunnel;
    observer(record);
  }
  WorkerCounters::bump(worker_.counters().requests);
  end_inflight();
  routes_.reset();
}

template <class Out, class Handler>
void Session::async_write_message(Out& to, std::string_view body, Handler&& handler) {
  // wire_ holds the head. A small body joins it, so the message leaves in one send() of one buffer.
  if (body.size() <= kInlineBodyBytes) {
    wire_.append(body);
    async_write_all(to, asio::buffer(wire_), std::forward<Handler>(handler));
    return;
  }
  std::array<asio::const_buffer, 2> buffers{asio::buffer(wire_), asio::buffer(body)};
  async_write_all(to, buffers, std::forward<Handler>(handler));
}

// ---- the relay ----
//
// Beast's buffer_body relay: the parser writes body bytes (de-chunked) into chunk_, they are written
// out framed, and only then is the next chunk read. Reads and writes each get a fresh deadline, so a long
// stream is bounded by its idle time per phase, never by its total time.

char* Session::chunk() {
  if (!chunk_) chunk_ = std::make_unique<char[]>(worker_.limits().stream_buffer_bytes);
  return chunk_.get();
}

http::buffer_body::value_type& Session::body_of(Stream s) {
  return s == Stream::kRequest ? parser_->get().body() : res_parser_->get().body();
}

bool Session::stream_done(Stream s) const {
  return s == Stream::kRequest ? parser_->is_done() : res_parser_->is_done();
}

void Session::relay(Stream s) {
  const size_t capacity = worker_.limits().stream_buffer_bytes;
  auto& body = body_of(s);
  body.data = chunk();
  body.size = capacity;
  beast::flat_buffer& in = s == Stream::kRequest ? buffer_ : upstream_->buffer;
  const error_code ec = s == Stream::kRequest ? feed(*parser_, in) : feed(*res_parser_, in);
  if (ec) {
    if (s == Stream::kRequest) return request_stream_failed(ec);
    return close();  // the client has the head already: cutting the connection is all that is left
  }
  const size_t n = capacity - body.size;
  const bool done = stream_done(s);
  if (n == 0 && !done && in.size() >= capacity) {
    // The parser holds back a chunk-size line or trailer that never ends: refuse instead of buffering.
    if (s == Stream::kRequest) return request_stream_failed(http::error::bad_chunk);
    return close();
  }
  wire_.clear();
  if (n > 0 || done) return write_stream(s, n, done);
  read_stream(s);
}

void Session::read_stream(Stream s) {
  const bool request = s == Stream::kRequest;
  set_deadline(request ? worker_.limits().request_timeout : worker_.limits().upstream_timeout);
  beast::flat_buffer& in = request ? buffer_ : upstream_->buffer;
  auto on_read = [self = shared_from_this(), s](error_code ec, size_t n) { self->on_stream_read(s, ec, n); };
  if (request) {
    stream_.async_read_some(in.prepare(worker_.limits().stream_buffer_bytes), std::move(on_read));
  } else {
    upstream_->socket.async_read_some(in.prepare(worker_.limits().stream_buffer_bytes), std::move(on_read));
  }
}

void Session::on_stream_read(Stream s, error_code ec, size_t n) {
  if (phase_ == Phase::kClosed) return;
  if (ec == asio::error::eof && s == Stream::kResponse) {
    // A close-delimited body ends here; one with a length or chunks is cut short (partial_message).
    res_parser_->put_eof(ec);
    if (ec) return close();
    return relay(s);
  }
  if (ec) return close();  // the client went away mid-upload, or the upstream mid-response
  (s == Stream::kRequest ? buffer_ : upstream_->buffer).commit(n);
  relay(s);
}

std::string_view Session::frame(Framing out, size_t n, bool last) {
  if (out != Framing::kChunked) return {};
  if (n == 0) {
    if (last) wire_ += "0\r\n\r\n";
    return {};
  }
  char size_line[24];
  const int len = std::snprintf(size_line, sizeof size_line, "%zx\r\n", n);
  wire_.append(size_line, static_cast<size_t>(len));
  return last ? std::string_view("\r\n0\r\n\r\n") : std::string_view("\r\n");
}

void Session::write_stream(Stream s, size_t n, bool last) {
  const bool request = s == Stream::kRequest;
  phase_ = request ? Phase::kStreamingRequest : Phase::kStreamingResponse;
  if (request) {
    bytes_in_ += n;
  } else {
    bytes_out_ += n;
    // The response was read to its end: the upstream connection may serve the next request meanwhile.
    if (last) finish_upstream();
  }
  set_deadline(request ? worker_.limits().upstream_timeout : worker_.limits().request_timeout);
  const std::string_view after = frame(request ? request_out_ : response_out_, n, last);
  std::array<asio::const_buffer, 3> buffers{asio::buffer(wire_), asio::buffer(chunk_.get(), n),
                                            asio::buffer(after.data(), after.size())};
  auto on_written = [self = shared_from_this(), s, last](error_code ec, size_t) {
    self->on_stream_write(s, ec, last);
  };
  if (request) {
    asio::async_write(upstream_->socket, buffers, std::move(on_written));
  } else {
    stream_.async_write(buffers, std::move(on_written));
  }
}

void Session::on_stream_write(Stream s, error_code ec, bool last) {
  if (phase_ == Phase::kClosed) return;
  if (s == Stream::kResponse) {
    if (ec || !last) {
      if (ec) return close();
      return relay(s);
    }
    return on_write(ec);
  }
  if (ec || upstream_timed_out_) return upstream_failed(ec, false);
  if (!last) return relay(s);
  read_response_header();
}

void Session::request_stream_failed(error_code ec) {
  // The upstream has part of a request it will never see the end of; it is not reused.
  drop_upstream();
  fail_read(ec);
}

// ---- the tunnel ----
//
// After a 101 the connection is a byte pipe to the release that answered, each way: read a piece (at most
// kTunnelPieceBytes), write it, read the next, so a slow side holds the other back. It is counted per
// release by the worker and stays on that release whatever the routes say, until a side closes, it idles
// for upgraded_idle_timeout, or its release has been out of the routes for upgrade_drain_timeout.

void Session::start_tunnel() {
  phase_ = Phase::kTunnel;
  answer_keep_alive_ = false;
  tunnel_release_ = routes_->table->upstreams[upstream_index_].release_id;
  tunnel_registration_ = worker_.add_tunnel(this, tunnel_release_);
  tunnel_registered_ = true;
  serialize_head(res_parser_->get(), wire_);
  bytes_in_ = 0;
  bytes_out_ = 0;
  set_deadline(worker_.limits().upgraded_idle_timeout);
  stream_.async_write(asio::buffer(wire_), [self = shared_from_this()](error_code ec, size_t) {
    if (self->phase_ == Phase::kClosed) return;
    if (ec) return self->end_tunnel();
    self->record();  // the 101, once; the tunnel no longer counts as a request in flight
    self->wire_.clear();
    // What either side sent after the handshake (a first frame) is already buffered: it goes first.
    self->tunnel_read(Stream::kRequest);
    self->tunnel_read(Stream::kResponse);
  });
}

void Session::tunnel_read(Stream s) {
  beast::flat_buffer& in = s == Stream::kRequest ? buffer_ : upstream_->buffer;
  if (in.size() > 0) return on_tunnel_read(s, {}, 0);
  auto on_read = [self = shared_from_this(), s](error_code ec, size_t n) { self->on_tunnel_read(s, ec, n); };
  if (s == Stream::kRequest) {
    stream_.async_read_some(in.prepare(kTunnelPieceBytes), std::move(on_read));
  } else {
    upstream_->socket.async_read_some(in.prepare(kTunnelPieceBytes), std::move(on_read));
  }
}

void Session::on_tunnel_read(Stream s, error_code ec, size_t n) {
  if (phase_ == Phase::kClosed) return;
  // A TLS client that closes without close_notify reads as stream_truncated: the same end here.
  if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) return tunnel_eof(s);
  if (ec) return end_tunnel();
  beast::flat_buffer& in = s == Stream::kRequest ? buffer_ : upstream_->buffer;
  in.commit(n);
  set_deadline(worker_.limits().upgraded_idle_timeout);
  auto on_written = [self = shared_from_this(), s](error_code ec, size_t n) {
    self->on_tunnel_write(s, ec, n);
  };
  if (s == Stream::kRequest) {
    async_write_all(upstream_->socket, in.data(), std::move(on_written));
  } else {
    stream_.async_write(in.data(), std::move(on_written));
  }
}

void Session::on_tunnel_write(Stream s, error_code ec, size_t n) {
  if (phase_ == Phase::kClosed) return;
  if (ec) return end_tunnel();
  (s == Stream::kRequest ? buffer_ : upstream_->buffer).consume(n);
  (s == Stream::kRequest ? bytes_in_ : bytes_out_) += n;
  set_deadline(worker_.limits().upgraded_idle_timeout);
  tunnel_read(s);
}

// One side finished sending: the other side is told (a half-close), and the tunnel ends when both did.
void Session::tunnel_eof(Stream s) {
  error_code ignored;
  if (s == Stream::kRequest) {
    client_done_ = true;
    upstream_->socket.shutdown(TcpSocket::shutdown_send, ignored);
  } else {
    upstream_done_ = true;
    // TLS has no half-close to pass on (close_notify ends the stream): the release's end is the end.
    if (stream_.tls()) return end_tunnel();
    stream_.tcp().shutdown(TcpSocket::shutdown_send, ignored);
  }
  if (client_done_ && upstream_done_) end_tunnel();
}

void Session::end_tunnel() {
  drop_upstream();
  close();
}

void Session::check_drain() {
  if (phase_ != Phase::kTunnel || !upstream_) return;
  const std::chrono::milliseconds idle = worker_.limits().upgraded_idle_timeout;
  if (worker_.routable(*upstream_)) {
    if (drain_at_ == Clock::time_point::max()) return;
    drain_at_ = Clock::time_point::max();  // back in the routes (a rollback): kept
    set_deadline(idle);
    return;
  }
  if (drain_at_ != Clock::time_point::max()) return;
  drain_at_ = Clock::now() + worker_.limits().upgrade_drain_timeout;
  set_deadline(idle);  // clamped to drain_at_
}

// ---- the deadline ----

void Session::set_deadline(std::chrono::milliseconds d) {
  deadline_ = std::min(Clock::now() + d, drain_at_);
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
  // A relay that made no progress within its phase's idle time: both connections go.
  close();
}

}  // namespace villager::proxy
