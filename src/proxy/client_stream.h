#pragma once
// The client side of a session: a TCP socket, or TLS over one. Each operation picks its layer with one
// branch, so a plain listener pays a predictable branch per I/O for TLS being possible. Like the socket
// it wraps: at most one read and one write outstanding, on the session's thread only.

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <optional>
#include <utility>

#include "proxy/upstream_pool.h"

namespace villager::proxy {

class ClientStream {
 public:
  using TlsStream = boost::asio::ssl::stream<TcpSocket>;

  explicit ClientStream(TcpSocket socket) : plain_(std::move(socket)) {}

  // Moves the socket into a TLS stream on `context`; before any I/O.
  void use_tls(boost::asio::ssl::context& context) { tls_.emplace(std::move(plain_), context); }
  bool tls() const { return tls_.has_value(); }
  TcpSocket& tcp() { return tls_ ? tls_->next_layer() : plain_; }
  // The TLS stream's SSL object (only when tls()).
  SSL* ssl() { return tls_->native_handle(); }

  template <class Handler>
  void async_handshake(Handler&& handler) {
    tls_->async_handshake(boost::asio::ssl::stream_base::server, std::forward<Handler>(handler));
  }
  // Sends close_notify and waits for the peer's (bounded by the session's deadline).
  template <class Handler>
  void async_shutdown(Handler&& handler) {
    tls_->async_shutdown(std::forward<Handler>(handler));
  }
  template <class Buffers, class Handler>
  void async_read_some(const Buffers& buffers, Handler&& handler) {
    if (tls_) {
      tls_->async_read_some(buffers, std::forward<Handler>(handler));
    } else {
      plain_.async_read_some(buffers, std::forward<Handler>(handler));
    }
  }
  // Writes all of `buffers` (boost::asio::async_write on the right layer).
  template <class Buffers, class Handler>
  void async_write(const Buffers& buffers, Handler&& handler) {
    if (tls_) {
      boost::asio::async_write(*tls_, buffers, std::forward<Handler>(handler));
    } else {
      boost::asio::async_write(plain_, buffers, std::forward<Handler>(handler));
    }
  }

 private:
  TcpSocket plain_;  // moved into tls_ by use_tls()
  std::optional<TlsStream> tls_;
};

// One spelling of "write all of it" for either side of a session.
template <class Buffers, class Handler>
void async_write_all(TcpSocket& socket, const Buffers& buffers, Handler&& handler) {
  boost::asio::async_write(socket, buffers, std::forward<Handler>(handler));
}
template <class Buffers, class Handler>
void async_write_all(ClientStream& stream, const Buffers& buffers, Handler&& handler) {
  stream.async_write(buffers, std::forward<Handler>(handler));
}

}  // namespace villager::proxy
