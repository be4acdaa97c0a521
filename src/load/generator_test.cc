// run_load() against a real HTTP server on loopback, started and stopped by each test. The server is a
// small blocking one written here so each test can pick how it misbehaves.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "load/load.h"
#include "load/report.h"

namespace villager::load {
namespace {

enum class Behaviour {
  kOk,           // 200 "ok", keep-alive
  kServerError,  // 500, keep-alive
  kCloseEach,    // 200 with Connection: close, then closes
  kDropEach,     // reads the request, closes without answering
  kNeverAnswer,  // reads the request and stays silent
};

class TestServer {
 public:
  explicit TestServer(Behaviour b) : behaviour_(b) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(listen_fd_, 128), 0);
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~TestServer() {
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    ::close(listen_fd_);
    acceptor_.join();
    {
      std::lock_guard lock(mu_);
      for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
    }
    for (auto& t : sessions_) t.join();
  }
  uint16_t port() const { return port_; }
  uint64_t requests() const { return requests_.load(); }

 private:
  void accept_loop() {
    while (!stopping_) {
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) return;
      std::lock_guard lock(mu_);
      fds_.push_back(fd);
      sessions_.emplace_back([this, fd] { serve(fd); });
    }
  }
  void serve(int fd) {
    std::string pending;
    char buf[4096];
    while (true) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) break;
      pending.append(buf, static_cast<size_t>(n));
      size_t end;
      bool close_now = false;
      while ((end = pending.find("\r\n\r\n")) != std::string::npos) {
        pending.erase(0, end + 4);
        ++requests_;
        std::string reply;
        switch (behaviour_) {
          case Behaviour::kOk:
            reply = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
            break;
          case Behaviour::kServerError:
            reply = "HTTP/1.1 500 Oops\r\nContent-Length: 4\r\n\r\nboom";
            break;
          case Behaviour::kCloseEach:
            reply = "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok";
            close_now = true;
            break;
          case Behaviour::kDropEach:
            close_now = true;
            break;
          case Behaviour::kNeverAnswer:
            break;
        }
        if (!reply.empty() && ::write(fd, reply.data(), reply.size()) < 0) close_now = true;
        if (close_now) break;
      }
      if (close_now) break;
    }
    std::lock_guard lock(mu_);
    ::shutdown(fd, SHUT_RDWR);
    ::close(fd);
    std::erase(fds_, fd);
  }

  Behaviour behaviour_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> requests_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<int> fds_;               // Guarded by mu_.
  std::vector<std::thread> sessions_;  // Guarded by mu_ while the acceptor runs.
};

LoadOptions options_for(uint16_t port, uint64_t max_requests) {
  LoadOptions o;
  o.url = *parse_url("http://127.0.0.1:" + std::to_string(port) + "/");
  o.threads = 2;
  o.connections = 4;
  // The request cap ends these runs; the long duration only bounds a broken run.
  o.duration = std::chrono::minutes(2);
  o.max_requests = max_requests;
  return o;
}

TEST(RunLoad, ClosedModelStopsAtTheRequestCap) {
  TestServer server(Behaviour::kOk);
  auto r = run_load(options_for(server.port(), 500));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_FALSE(r->open_model);
  EXPECT_EQ(r->responses, 500u);
  EXPECT_EQ(r->status_counts[200], 500u);
  EXPECT_EQ(r->errors.total(), 0u);
  EXPECT_EQ(r->latency.count(), 500u);
  EXPECT_EQ(server.requests(), 500u);
  EXPECT_EQ(r->error_rate(), 0);
  EXPECT_TRUE(check_budgets(*r, {}).empty());
}

TEST(RunLoad, OpenModelCorrectedLatencyIsNeverBelowUncorrected) {
  TestServer server(Behaviour::kOk);
  LoadOptions o = options_for(server.port(), 300);
  o.rate = 2000;
  auto r = run_load(o);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_TRUE(r->open_model);
  EXPECT_EQ(r->responses, 300u);
  EXPECT_EQ(r->latency.count(), r->uncorrected.count());
  // Each corrected sample is measured from an earlier instant than its uncorrected twin.
  for (double q : {0.5, 0.9, 0.99, 1.0})
    EXPECT_GE(r->latency.percentile(q), r->uncorrected.percentile(q)) << q;
}

TEST(RunLoad, ServerErrorsAreCountedAsErrors) {
  TestServer server(Behaviour::kServerError);
  auto r = run_load(options_for(server.port(), 200));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status_counts[500], 200u);
  EXPECT_EQ(r->non_2xx_3xx(), 200u);
  EXPECT_DOUBLE_EQ(r->error_rate(), 1.0);
  Budgets b;
  b.max_error_rate = 0.5;
  EXPECT_EQ(check_budgets(*r, b).size(), 1u);
}

TEST(RunLoad, ConnectionCloseIsFollowedByAReconnect) {
  TestServer server(Behaviour::kCloseEach);
  auto r = run_load(options_for(server.port(), 100));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->responses, 100u);
  EXPECT_EQ(r->errors.total(), 0u);
  EXPECT_GE(r->reconnects, 96u);  // every response but the last one on each connection
}

TEST(RunLoad, ServerDroppingConnectionsCountsReadErrors) {
  TestServer server(Behaviour::kDropEach);
  auto r = run_load(options_for(server.port(), 100));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->responses, 0u);
  EXPECT_GT(r->errors.read + r->errors.write, 0u);
  EXPECT_FALSE(check_budgets(*r, {}).empty());  // "no response completed"
}

TEST(RunLoad, SilentServerCountsTimeouts) {
  TestServer server(Behaviour::kNeverAnswer);
  LoadOptions o = options_for(server.port(), 0);
  o.duration = std::chrono::seconds(2);
  o.timeout = std::chrono::milliseconds(100);
  auto r = run_load(o);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->responses, 0u);
  EXPECT_GT(r->errors.timeout, 0u);
}

TEST(RunLoad, HangingConnectIsCountedAsAConnectError) {
  // A listener that never accepts, with a backlog of 0: once its queue is full the kernel drops SYNs, so
  // further connects hang until the generator's timeout gives up on them.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 0), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  LoadOptions o = options_for(ntohs(addr.sin_port), 0);
  o.connections = 8;
  o.duration = std::chrono::seconds(1);
  o.timeout = std::chrono::milliseconds(100);
  auto r = run_load(o);
  ::close(fd);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->responses, 0u);
  EXPECT_GT(r->errors.connect, 0u);
}

TEST(RunLoad, DownTargetCountsConnectErrors) {
  uint16_t port;
  {
    TestServer gone(Behaviour::kOk);
    port = gone.port();
  }  // closed: nothing listens on the port now
  LoadOptions o = options_for(port, 0);
  o.duration = std::chrono::milliseconds(300);
  auto r = run_load(o);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->responses, 0u);
  EXPECT_GT(r->errors.connect, 0u);
}

TEST(RunLoad, RejectsBadOptions) {
  LoadOptions o = options_for(1, 0);
  o.connections = 1;
  o.threads = 2;
  EXPECT_EQ(run_load(o).error().code, Code::kInvalidArgument);
  o = options_for(1, 0);
  o.duration = std::chrono::hours(2);
  EXPECT_EQ(run_load(o).error().code, Code::kInvalidArgument);
  o = options_for(1, 0);
  o.headers.push_back({"Bad Name", "x"});
  EXPECT_EQ(run_load(o).error().code, Code::kInvalidArgument);
}

TEST(BuildRequest, AddsHostAndContentLength) {
  LoadOptions o = options_for(8080, 0);
  o.method = "POST";
  o.headers.push_back({"X-Token", "t"});
  o.body = "abc";
  EXPECT_EQ(build_request(o),
            "POST / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nX-Token: t\r\nContent-Length: 3\r\n\r\nabc");
  o.headers.push_back({"host", "other"});
  EXPECT_EQ(build_request(o).find("Host: 127.0.0.1"), std::string::npos);
}

}  // namespace
}  // namespace villager::load
