#pragma once
// Test-only helpers for the proxy tests (header-only, so it never lands in the library): a real upstream
// HTTP server on loopback that answers with its release id, and a raw-socket HTTP client with a bounded
// wait on every read so a broken proxy fails a test instead of hanging it.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/beast/http.hpp>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace villager::proxy::testing {

// A free loopback port nobody listens on (bound, then closed).
inline uint16_t unused_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// A listening socket on 127.0.0.1:<ephemeral>; its port goes to `port`.
inline int listen_on_loopback(uint16_t& port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::listen(fd, 128);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  port = ntohs(a.sin_port);
  return fd;
}

// Polls `cond` up to `limit`; for waiting on another thread's effect, never for asserting on time.
template <class F>
bool eventually(F cond, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return cond();
}

// A keep-alive HTTP/1.1 upstream on 127.0.0.1:<ephemeral>, one thread per connection. Answers 200 with
// body = release id and echoes what it saw in x-seen-* headers. Path /slow/<ms> waits that long first;
// /chunked/<n>, /close/<n> and /big/<n> answer n bytes (see serve()).
class TestUpstream {
 public:
  explicit TestUpstream(std::string release_id) : release_(std::move(release_id)) {
    listen_fd_ = listen_on_loopback(port_);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~TestUpstream() { stop(); }

  uint16_t port() const { return port_; }
  const std::string& release() const { return release_; }
  int accepted() const { return accepted_.load(); }
  int requests() const { return requests_.load(); }
  // Requests read (counted before a /slow/ wait, unlike requests()).
  int received() const { return received_.load(); }
  int open_connections() {
    std::lock_guard lock(mu_);
    return static_cast<int>(open_.size());
  }
  // Headers of the last request seen (lower-case names).
  std::map<std::string, std::string> last_headers() {
    std::lock_guard lock(mu_);
    return last_headers_;
  }
  // Lets a held /sse stream send its end.
  void release_streams() {
    std::lock_guard lock(mu_);
    streams_released_ = true;
    cv_.notify_all();
  }
  // Closes every connection from the server side, as an upstream restart or keep-alive timeout would.
  void close_connections() {
    std::unique_lock lock(mu_);
    for (int fd : open_) ::shutdown(fd, SHUT_RDWR);
    cv_.wait_for(lock, std::chrono::seconds(10), [this] { return open_.empty(); });
  }

  void stop() {
    if (stopped_.exchange(true)) return;
    ::shutdown(listen_fd_, SHUT_RDWR);
    {
      std::lock_guard lock(mu_);
      for (int fd : open_) ::shutdown(fd, SHUT_RDWR);
    }
    cv_.notify_all();
    acceptor_.join();
    for (auto& t : workers_) t.join();
    ::close(listen_fd_);
  }

 private:
  void accept_loop() {
    for (;;) {
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) return;
      if (stopped_) {
        ::close(fd);
        return;
      }
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      ++accepted_;
      {
        std::lock_guard lock(mu_);
        open_.insert(fd);
      }
      workers_.emplace_back([this, fd] { serve(fd); });
    }
  }

  void serve(int fd) {
    namespace http = boost::beast::http;
    std::string buf;
    char chunk[16384];
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.eager(true);
      parser.body_limit(1 << 30);
      boost::system::error_code ec;
      bool done = false;
      while (!done) {
        if (!buf.empty()) {
          size_t used = parser.put(boost::asio::buffer(buf), ec);
          if (ec == http::error::need_more) ec = {};
          if (ec) break;
          buf.erase(0, used);
          if (parser.is_done()) {
            done = true;
            break;
          }
          if (used > 0) continue;
        }
        ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0) break;
        buf.append(chunk, static_cast<size_t>(n));
      }
      if (!done) break;
      auto req = parser.release();
      std::map<std::string, std::string> seen;
      for (const auto& f : req) {
        std::string name(f.name_string());
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        seen[name] = std::string(f.value());
      }
      {
        std::lock_guard lock(mu_);
        last_headers_ = seen;
      }
      ++received_;
      std::string target(req.target());
      if (target.rfind("/slow/", 0) == 0) {
        std::unique_lock lock(mu_);
        cv_.wait_for(lock, std::chrono::milliseconds(std::stoi(target.substr(6))),
                     [this] { return stopped_.load(); });
      }
      ++requests_;
      // /sse sends its head and a first event, then holds until release_streams(), then ends the stream.
      // /drip/<n>/<ms> sends n chunked events, one every ms. /early sends a 103 before its answer.
      if (target == "/sse" || target.rfind("/drip/", 0) == 0) {
        if (!stream_events(fd, target)) break;
        continue;
      }
      if (target == "/early") {
        const std::string early = "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n";
        ::send(fd, early.data(), early.size(), MSG_NOSIGNAL);
      }
      // /chunked/<n> and /close/<n> answer n bytes framed by chunks or by closing the connection;
      // /big/<n> answers n bytes with a length.
      if (target.rfind("/chunked/", 0) == 0 || target.rfind("/close/", 0) == 0) {
        const bool chunked = target[1] == 'c' && target[2] == 'h';
        const std::string body(std::stoul(target.substr(chunked ? 9 : 7)), 'b');
        std::string out = "HTTP/1.1 200 OK\r\nx-release: " + release_ + "\r\n";
        if (chunked) {
          out += "Transfer-Encoding: chunked\r\n\r\n";
          for (size_t at = 0; at < body.size(); at += 1000) {
            const size_t n = std::min<size_t>(1000, body.size() - at);
            char size[16];
            std::snprintf(size, sizeof size, "%zx\r\n", n);
            out += size + body.substr(at, n) + "\r\n";
          }
          out += "0\r\n\r\n";
        } else {
          out += "Connection: close\r\n\r\n" + body;
        }
        if (::send(fd, out.data(), out.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(out.size()) || !chunked)
          break;
        continue;
      }
      http::response<http::string_body> res{http::status::ok, 11};
      res.set("x-release", release_);
      res.set("x-seen-xff", seen["x-forwarded-for"]);
      res.set("x-seen-proto", seen["x-forwarded-proto"]);
      res.set("x-seen-body-bytes", std::to_string(req.body().size()));
      res.body() = target.rfind("/big/", 0) == 0 ? std::string(std::stoul(target.substr(5)), 'g') : release_;
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      std::ostringstream os;
      os << res;
      std::string out = os.str();
      if (::send(fd, out.data(), out.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(out.size())) break;
      if (!req.keep_alive()) break;
    }
    std::lock_guard lock(mu_);
    open_.erase(fd);
    ::close(fd);
    cv_.notify_all();
  }

  bool send_all(int fd, const std::string& out) {
    return ::send(fd, out.data(), out.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(out.size());
  }

  bool stream_events(int fd, const std::string& target) {
    const std::string event = "9\r\ndata: 1\n\n\r\n";  // one chunk holding "data: 1\n\n"
    if (!send_all(fd,
                  "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n" +
                      event))
      return false;
    if (target == "/sse") {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::seconds(10), [this] { return streams_released_ || stopped_.load(); });
    } else {
      const size_t slash = target.find('/', 6);
      const int n = std::stoi(target.substr(6, slash - 6));
      const int ms = std::stoi(target.substr(slash + 1));
      for (int i = 1; i < n; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(ms));
        if (!send_all(fd, event)) return false;
      }
    }
    return send_all(fd, "0\r\n\r\n");
  }

  std::string release_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopped_{false};
  std::atomic<int> accepted_{0};
  std::atomic<int> requests_{0};
  std::atomic<int> received_{0};
  std::thread acceptor_;
  std::vector<std::thread> workers_;  // Only touched by acceptor_ until stop() joins it.
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<int> open_;                               // Guarded by mu_.
  std::map<std::string, std::string> last_headers_;  // Guarded by mu_.
  bool streams_released_ = false;                    // Guarded by mu_.
};

// One client connection speaking raw bytes, so tests can send garbage or pipelined requests too.
class RawClient {
 public:
  using Response = boost::beast::http::response<boost::beast::http::string_body>;
  static constexpr std::chrono::milliseconds kReadLimit{10'000};

  explicit RawClient(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~RawClient() { ::close(fd_); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return connected_; }
  bool send_raw(std::string_view bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
  }
  bool send(const std::string& method, const std::string& target, const std::string& extra_headers = "",
            const std::string& body = "") {
    std::string r = method + " " + target + " HTTP/1.1\r\nHost: test\r\n" + extra_headers;
    if (!body.empty() || method == "POST") r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    r += "\r\n" + body;
    return send_raw(r);
  }
  // Reads one response; nullopt when the connection closed or nothing came within kReadLimit.
  std::optional<Response> read(bool head = false) {
    namespace http = boost::beast::http;
    http::response_parser<http::string_body> parser;
    parser.eager(true);
    parser.body_limit(1 << 30);
    if (head) parser.skip(true);
    char chunk[16384];
    for (;;) {
      if (!buf_.empty()) {
        boost::system::error_code ec;
        size_t used = parser.put(boost::asio::buffer(buf_), ec);
        if (ec && ec != http::error::need_more) return std::nullopt;
        buf_.erase(0, used);
        if (parser.is_done()) return parser.release();
        if (used > 0 && !ec) continue;
      }
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(kReadLimit.count())) <= 0) return std::nullopt;
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) {
        // A response delimited by close ends here; a close before any byte is no response at all.
        if (!parser.got_some()) return std::nullopt;
        boost::system::error_code ec;
        parser.put_eof(ec);
        if (!ec && parser.is_done()) return parser.release();
        return std::nullopt;
      }
      buf_.append(chunk, static_cast<size_t>(n));
    }
  }
  std::optional<Response> get(const std::string& target, const std::string& extra_headers = "") {
    if (!send("GET", target, extra_headers)) return std::nullopt;
    return read();
  }
  // Half-closes: the server reads EOF after what was sent.
  void finish_sending() { ::shutdown(fd_, SHUT_WR); }
  // Everything the server sends until it closes; nullopt if it has not closed within kReadLimit.
  std::optional<std::string> read_until_closed() {
    std::string all = std::move(buf_);
    buf_.clear();
    const auto deadline = std::chrono::steady_clock::now() + kReadLimit;
    char chunk[16384];
    for (;;) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd p{fd_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) return std::nullopt;
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) return all;
      all.append(chunk, static_cast<size_t>(n));
    }
  }
  // Raw bytes until `wanted` appeared in them (true), or the connection closed or kReadLimit passed.
  bool read_until(std::string_view wanted, std::string& got) {
    const auto deadline = std::chrono::steady_clock::now() + kReadLimit;
    char chunk[16384];
    while (buf_.find(wanted) == std::string::npos) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd p{fd_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) break;
      buf_.append(chunk, static_cast<size_t>(n));
    }
    got = buf_;
    return buf_.find(wanted) != std::string::npos;
  }
  // True when the server closed the connection (EOF within kReadLimit, no bytes).
  bool closed_by_peer() {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(kReadLimit.count())) <= 0) return false;
    char c;
    return ::recv(fd_, &c, 1, 0) <= 0;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  std::string buf_;
};

}  // namespace villager::proxy::testing
