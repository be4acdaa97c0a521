#pragma once
// One client connection: reads requests in order (pipelined ones sequentially), routes each with one
// route snapshot, forwards it over a pooled upstream connection and writes the answer back. Lives on its
// worker's thread only, so it needs no strand. A deadline guards every read and write.

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <list>
#include <memory>
#include <optional>
#include <string>

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

 private:
  enum class Phase { kReadingHeader, kReadingBody, kConnecting, kUpstream, kWriting, kClosed };
  // What pump() reads: a request's header, the rest of the request, or the upstream's whole response.
  enum class Reading { kHeader, kBody, kResponse };
  using Clock = std::chrono::steady_clock;

  void read_header();
  void on_read_header(boost::beast::error_code ec);
  void read_body();
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
  void on_upstream_read(boost::beast::error_code ec);
  void upstream_failed(boost::beast::error_code ec, bool got_response_bytes);
  void answer_error(boost::beast::http::status status, std::string_view message, bool keep_alive);
  void write_response();
  void on_write(boost::beast::error_code ec);
  void drop_upstream();
  // Writes wire_ (the serialized head) and `body` to `socket`.
  template <class Handler>
  void async_write_message(TcpSocket& socket, std::string_view body, Handler&& handler);

  void set_deadline(std::chrono::milliseconds d);
  void wait_timer();
  void on_timer();

  Worker& worker_;
  std::list<Session*>::iterator registration_;
  bool registered_ = false;
  TcpSocket socket_;
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

  // The request in flight.
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  Request req_;
  Response res_;
  unsigned client_version_ = 11;
  bool client_keep_alive_ = true;
  bool head_request_ = false;
  bool idempotent_ = false;
  bool retried_ = false;
  bool set_cookie_ = false;
  std::shared_ptr<const RouteSnapshot> routes_;  // the one snapshot this request is routed by
  size_t upstream_index_ = 0;
  std::unique_ptr<UpstreamConnection> upstream_;
  std::optional<boost::beast::http::response_parser<boost::beast::http::string_body>> res_parser_;
  std::string wire_;  // the message being written, as bytes: the request upstream, then the response
  Clock::time_point started_;
  uint64_t bytes_in_ = 0;
};

}  // namespace villager::proxy
