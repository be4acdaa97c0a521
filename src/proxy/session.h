#pragma once
// One client connection: reads requests in order (pipelined ones sequentially), routes each with one
// route snapshot, forwards it over a pooled upstream connection and writes the answer back. Small bodies
// travel whole, with the head in one send; larger ones and bodies of unknown length are relayed in
// chunks of at most limits.stream_buffer_bytes, reading the next chunk only once the last one was
// written (backpressure), so memory per connection is bounded whatever the body size. On an HTTPS
// listener the client side is TLS (handshake first, under its own deadline). An Upgrade request answered
// 101 turns the connection into a byte pipe to its release (a tunnel) until either side closes, it idles,
// or its release left the routes longer than upgrade_drain_timeout ago. Lives on its worker's thread
// only, so it needs no strand. A deadline guards every read and write.

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <list>
#include <memory>
#include <optional>
#include <string>

#include "proxy/cert_store.h"
#include "proxy/client_stream.h"
#include "proxy/connection_limits.h"
#include "proxy/http_rules.h"
#include "proxy/upstream_pool.h"
#include "proxy/worker.h"

namespace villager::proxy {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Worker& worker, TcpSocket socket);
  ~Session();

  // Must run on the worker's thread.
  void start();
  // True while waiting for the first byte of a next request (a graceful stop may close it then).
  bool idle() const;
  // Closes the client socket (and the upstream one in use); pending operations end with an error.
  void close();
  // On a tunnel: starts the drain deadline when its release no longer takes traffic, lifts it when the
  // release is back. Called by the worker after it noticed a route swap.
  void check_drain();

 private:
  enum class Phase {
    kHandshake,
    kReadingHeader,
    kReadingBody,
    kConnecting,
    kUpstream,
    kStreamingRequest,
    kStreamingResponse,
    kWriting,
    kLingering,
    kTunnel,
    kClosed
  };
  // What pump() reads whole: a request's header or small body, the upstream's header or small body.
  enum class Reading { kHeader, kBody, kResponseHeader, kResponseBody };
  // Which body a relay moves: the request's (client to upstream) or the response's (upstream to client).
  enum class Stream { kRequest, kResponse };
  // How a relayed body is framed on its way out.
  enum class Framing { kLength, kChunked, kClose };
  using Clock = std::chrono::steady_clock;
  using RequestParser = boost::beast::http::request_parser<boost::beast::http::buffer_body>;
  using ResponseParser = boost::beast::http::response_parser<boost::beast::http::buffer_body>;

  void on_handshake(boost::beast::error_code ec);
  void read_header();
  void redirect_to_https();
  void on_read_header(boost::beast::error_code ec);
  void start_body();
  void on_read_body(boost::beast::error_code ec);
  void fail_read(boost::beast::error_code ec);
  void fail_framing(std::string_view problem);
  void pump(Reading what);
  void on_pump(Reading what, boost::beast::error_code ec, size_t n);
  bool satisfied(Reading what) const;
  void finish_read(Reading what, boost::beast::error_code ec);
  void route();
  void connect_upstream();
  void on_connect(boost::beast::error_code ec);
  void send_upstream();
  void on_upstream_write(boost::beast::error_code ec);
  void read_response_header();
  void on_response_header(boost::beast::error_code ec);
  void on_response_body(boost::beast::error_code ec);
  void start_response_stream(size_t first_bytes);
  void finish_upstream();
  void upstream_failed(boost::beast::error_code ec, bool got_response_bytes);
  void answer_error(boost::beast::http::status status, std::string_view message, bool keep_alive);
  // 503 + Retry-After: a connection cap (closes) or a saturated release.
  void shed(std::string_view message, bool keep_alive);
  void end_inflight();
  void write_answer();
  void on_write(boost::beast::error_code ec);
  // After an answer with Connection: close: close_notify (TLS), or shutdown and linger() (TCP).
  void end_connection();
  void linger();
  void record();
  void drop_upstream();
  // Writes wire_ (the serialized head) and `body` to `to` (the client or the upstream).
  template <class Out, class Handler>
  void async_write_message(Out& to, std::string_view body, Handler&& handler);

  // ---- the relay of a body too large (or too long-lived) to hold whole ----
  char* chunk();
  boost::beast::http::buffer_body::value_type& body_of(Stream s);
  bool stream_done(Stream s) const;
  void relay(Stream s);
  void read_stream(Stream s);
  void on_stream_read(Stream s, boost::beast::error_code ec, size_t n);
  // Writes wire_ (a head, or nothing) then `n` bytes of chunk() framed as `s` goes out.
  void write_stream(Stream s, size_t n, bool last);
  void on_stream_write(Stream s, boost::beast::error_code ec, bool last);
  void request_stream_failed(boost::beast::error_code ec);
  // Appends the chunk-size line to wire_ and returns what follows the data (chunked framing only).
  std::string_view frame(Framing out, size_t n, bool last);

  // ---- an upgraded connection: bytes both ways, Stream::kRequest = client to upstream ----
  void start_tunnel();
  void tunnel_read(Stream s);
  void on_tunnel_read(Stream s, boost::beast::error_code ec, size_t n);
  void on_tunnel_write(Stream s, boost::beast::error_code ec, size_t n);
  void tunnel_eof(Stream s);
  void end_tunnel();

  // Never later than drain_at_ (an upgraded connection whose release left the routes).
  void set_deadline(std::chrono::milliseconds d);
  void wait_timer();
  void on_timer();

  Worker& worker_;
  std::list<Session*>::iterator registration_;
  bool registered_ = false;
  ClientStream stream_;
  std::shared_ptr<const CertSet> certs_;  // the certificates this connection's handshake used
  boost::beast::flat_buffer buffer_;
  std::string peer_;
  Phase phase_ = Phase::kReadingHeader;

  // One deadline per session; the timer is re-armed lazily when the deadline moves later.
  boost::asio::basic_waitable_timer<Clock, boost::asio::wait_traits<Clock>,
                                    boost::asio::io_context::executor_type>
      timer_;
  Clock::time_point deadline_ = Clock::time_point::max();
  bool timer_waiting_ = false;
  bool upstream_timed_out_ = false;

  // The request in flight. Its header is forwarded from the parser's message, edited in place.
  std::optional<RequestParser> parser_;
  unsigned client_version_ = 11;
  bool client_keep_alive_ = true;
  bool head_request_ = false;
  bool idempotent_ = false;
  bool retried_ = false;
  bool set_cookie_ = false;
  ConnectionLimits::Admit admit_ = ConnectionLimits::Admit::kOk;  // refused connections answer 503
  bool admitted_ = false;                                         // counted by the worker's ConnectionLimits
  size_t* inflight_ = nullptr;     // the release's in-flight counter while this request counts in it
  bool unread_request_ = false;    // refused before its end: linger() before closing
  bool streamed_request_ = false;  // its body is relayed, so it cannot be sent twice
  bool upgrade_ = false;           // an Upgrade request: a 101 makes the connection a tunnel
  std::string upgrade_protocol_;   // its Upgrade header ("websocket")
  Framing request_out_ = Framing::kLength;
  std::shared_ptr<const RouteSnapshot> routes_;  // the one snapshot this request is routed by
  size_t upstream_index_ = 0;
  std::unique_ptr<UpstreamConnection> upstream_;
  bool upstream_keep_alive_ = false;

  // The answer in flight: the upstream's response (header in the parser's message) or our own error.
  std::optional<ResponseParser> res_parser_;
  Response error_;
  Framing response_out_ = Framing::kLength;
  unsigned status_ = 0;
  bool answer_keep_alive_ = true;

  // Bodies: a small one whole in small_ (request, then response); a streamed one passes through chunk_,
  // at most limits.stream_buffer_bytes, allocated for a streamed message and freed after it.
  std::string small_;
  std::unique_ptr<char[]> chunk_;
  std::string_view body_;  // the body that leaves with the head: in small_, chunk_ or error_
  std::string wire_;       // the head being written (request upstream, then response), or chunk framing
  Clock::time_point started_;
  uint64_t bytes_in_ = 0;
  uint64_t bytes_out_ = 0;

  // The tunnel, once upgraded. Registered with the worker while open.
  std::list<Session*>::iterator tunnel_registration_;
  bool tunnel_registered_ = false;
  std::string tunnel_release_;
  bool client_done_ = false;    // the client half-closed its sending side
  bool upstream_done_ = false;  // the upstream did
  Clock::time_point drain_at_ = Clock::time_point::max();
};

}  // namespace villager::proxy
