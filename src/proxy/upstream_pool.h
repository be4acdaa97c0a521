#pragma once
// Idle keep-alive connections to upstreams, per address, owned by one proxy thread (no locking: only
// touched on that thread's io_context). Bounded: at most max_idle connections per address.

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace villager::proxy {

// Sockets bound to one io_context's executor: no type-erased executor on the hot path.
using TcpSocket =
    boost::asio::basic_stream_socket<boost::asio::ip::tcp, boost::asio::io_context::executor_type>;

// One connection to an upstream. `reused` is true once it has served a request and come back from the
// pool: a failure before any response byte on such a connection means it went stale while idle.
struct UpstreamConnection {
  explicit UpstreamConnection(boost::asio::io_context& ioc) : socket(ioc) {}
  TcpSocket socket;
  boost::beast::flat_buffer buffer;
  std::string key;  // "host:port", the pool slot
  std::string release_id;
  bool reused = false;
};

// What an idle connection's read buffer may keep: enough for the next response header; a streamed body
// grew it to stream_buffer_bytes, which idle connections (up to max_idle per address and thread) would
// otherwise hold for life.
inline constexpr size_t kIdleBufferBytes = 16 * 1024;
// Gives a read buffer's memory back when it is over kIdleBufferBytes (unread bytes stay).
inline void trim_idle_buffer(boost::beast::flat_buffer& b) {
  if (b.capacity() > kIdleBufferBytes) b.shrink_to_fit();
}

class UpstreamPool {
 public:
  explicit UpstreamPool(size_t max_idle_per_address) : max_idle_(max_idle_per_address) {}

  // The most recently pooled idle connection to `key`, or null.
  std::unique_ptr<UpstreamConnection> acquire(const std::string& key);
  // Keeps `conn` for reuse, its buffer trimmed, unless the slot is full (then it is closed).
  void release(std::unique_ptr<UpstreamConnection> conn);
  // Closes every idle connection whose release is `release_id`; returns how many.
  size_t close_release(std::string_view release_id);
  // Closes idle connections for which keep(conn) is false.
  template <class Pred>
  size_t close_unless(Pred keep);
  void close_all();
  size_t idle() const { return idle_count_; }

 private:
  size_t max_idle_;
  size_t idle_count_ = 0;
  std::unordered_map<std::string, std::vector<std::unique_ptr<UpstreamConnection>>> idle_;
};

template <class Pred>
size_t UpstreamPool::close_unless(Pred keep) {
  size_t closed = 0;
  for (auto& [key, conns] : idle_) {
    for (size_t i = 0; i < conns.size();) {
      if (keep(*conns[i])) {
        ++i;
        continue;
      }
      boost::system::error_code ignored;
      conns[i]->socket.close(ignored);
      conns.erase(conns.begin() + static_cast<std::ptrdiff_t>(i));
      ++closed;
    }
  }
  idle_count_ -= closed;
  return closed;
}

}  // namespace villager::proxy
