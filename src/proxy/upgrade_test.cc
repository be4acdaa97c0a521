// Upgrade (WebSocket): a 101 turns the connection into a byte pipe to the release that answered, counted
// per release; on a route swap a pipe stays on its release until it closes or its drain deadline passes.

#include <gtest/gtest.h>

#include <string>

#include "proxy/proxy.h"
#include "proxy/test_servers.h"

namespace villager::proxy {
namespace {

using testing::eventually;
using testing::RawClient;
using testing::TestUpstream;

// A release that answers every request with 101 (whatever it asked for) and then sends back
// "<release>:<bytes>" for every piece it reads.
class UpgradeUpstream {
 public:
  explicit UpgradeUpstream(std::string release) : release_(std::move(release)) {
    fd_ = testing::listen_on_loopback(port_);
    thread_ = std::thread([this] { accept_loop(); });
  }
  ~UpgradeUpstream() {
    ::shutdown(fd_, SHUT_RDWR);
    {
      std::lock_guard lock(mu_);
      for (int c : open_) ::shutdown(c, SHUT_RDWR);
    }
    thread_.join();
    for (auto& t : workers_) t.join();
    ::close(fd_);
  }
  Upstream route(int weight = 1) const { return Upstream{release_, "127.0.0.1", port_, weight}; }
  std::string last_request() {
    std::lock_guard lock(mu_);
    return last_request_;
  }

 private:
  void accept_loop() {
    for (;;) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::lock_guard lock(mu_);
      open_.push_back(c);
      workers_.emplace_back([this, c] { serve(c); });
    }
  }
  void serve(int c) {
    std::string in;
    char buf[4096];
    while (in.find("\r\n\r\n") == std::string::npos) {
      ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) return;
      in.append(buf, static_cast<size_t>(n));
    }
    {
      std::lock_guard lock(mu_);
      last_request_ = in.substr(0, in.find("\r\n\r\n") + 4);
    }
    const std::string head =
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "X-Release: " +
        release_ + "\r\n\r\n";
    ::send(c, head.data(), head.size(), MSG_NOSIGNAL);
    for (;;) {
      ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) break;
      const std::string out = release_ + ":" + std::string(buf, static_cast<size_t>(n));
      ::send(c, out.data(), out.size(), MSG_NOSIGNAL);
    }
    ::shutdown(c, SHUT_WR);
  }

  std::string release_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<int> open_;  // Guarded by mu_.
  std::vector<std::thread> workers_;
  std::string last_request_;  // Guarded by mu_.
};

constexpr const char* kUpgradeRequest =
    "GET /ws HTTP/1.1\r\nHost: test\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n"
    "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";

// A started proxy on an ephemeral port.
std::unique_ptr<Proxy> start_proxy(Routes& routes, ProxyLimits limits = {}, RequestObserver observer = {}) {
  auto p = std::make_unique<Proxy>(ProxyOptions{"127.0.0.1:0", 1, limits, std::move(observer)}, routes);
  Status s = p->start();
  EXPECT_TRUE(s.ok()) << s.error().message;
  return p;
}

// Sends the upgrade request and reads through the 101's head.
bool upgrade(RawClient& c, std::string& head) {
  return c.send_raw(kUpgradeRequest) && c.read_until("\r\n\r\n", head);
}

TEST(Upgrade, A101MakesABytePipeBothWaysCountedPerRelease) {
  UpgradeUpstream v1("v1");
  Routes routes(RouteTable{{v1.route()}, ""});
  std::mutex mu;
  std::vector<RequestRecord> records;
  std::vector<std::string> release_ids;
  auto proxy = start_proxy(routes, {}, [&](const RequestRecord& r) {
    std::lock_guard lock(mu);
    records.push_back(r);
    release_ids.emplace_back(r.release_id);
  });
  Proxy& p = *proxy;
  RawClient c(p.port());
  std::string got;
  ASSERT_TRUE(upgrade(c, got));
  EXPECT_EQ(got.rfind("HTTP/1.1 101 ", 0), 0u) << got;
  EXPECT_NE(got.find("Upgrade: websocket"), std::string::npos) << got;
  EXPECT_NE(got.find("Connection: upgrade"), std::string::npos) << got;
  // The release saw the handshake with its Upgrade and Connection (hop-by-hop, kept for an upgrade).
  const std::string seen = v1.last_request();
  EXPECT_NE(seen.find("Upgrade: websocket"), std::string::npos) << seen;
  EXPECT_NE(seen.find("Connection: upgrade"), std::string::npos) << seen;
  EXPECT_NE(seen.find("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="), std::string::npos) << seen;

  ASSERT_TRUE(c.send_raw("ping"));
  EXPECT_TRUE(c.read_until("v1:ping", got)) << got;
  ASSERT_TRUE(c.send_raw("again"));
  EXPECT_TRUE(c.read_until("v1:again", got)) << got;
  auto s = p.stats();
  EXPECT_EQ(s.upgrades, 1u);
  EXPECT_EQ(s.upgraded_open, 1u);
  EXPECT_EQ(s.upgraded_by_release["v1"], 1u);
  {
    std::lock_guard lock(mu);
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].status, 101);
    EXPECT_TRUE(records[0].upgraded);
    EXPECT_EQ(release_ids[0], "v1");
  }
  // The client closes its side: the release sees EOF, closes too, and the pipe is gone.
  c.finish_sending();
  EXPECT_TRUE(c.read_until_closed());
  EXPECT_TRUE(eventually([&] { return p.stats().upgraded_open == 0; }));
  EXPECT_TRUE(p.stats().upgraded_by_release.empty());
}

// v1 and v2 behind a proxy: a pipe opened while v1 took the traffic, then the swap to v2, then a pipe
// opened after it.
struct SwapScene {
  explicit SwapScene(ProxyLimits limits = {}) : proxy(start_proxy(routes, limits)), old_pipe(proxy->port()) {
    EXPECT_TRUE(upgrade(old_pipe, got));
    EXPECT_TRUE(routes.store(RouteTable{{v1.route(0), v2.route(1)}, ""}).ok());
    new_pipe.emplace(proxy->port());
    EXPECT_TRUE(upgrade(*new_pipe, got));
  }
  UpgradeUpstream v1{"v1"}, v2{"v2"};
  Routes routes{RouteTable{{v1.route(1), v2.route(0)}, ""}};
  std::unique_ptr<Proxy> proxy;
  std::string got;
  RawClient old_pipe;
  std::optional<RawClient> new_pipe;
};

TEST(Upgrade, ASwapLeavesOpenPipesOnTheirReleaseAndSendsNewOnesToTheNewRoute) {
  SwapScene scene;
  std::string& got = scene.got;
  EXPECT_NE(got.find("X-Release: v2"), std::string::npos) << got;
  ASSERT_TRUE(scene.new_pipe->send_raw("n"));
  EXPECT_TRUE(scene.new_pipe->read_until("v2:n", got)) << got;
  ASSERT_TRUE(scene.old_pipe.send_raw("o"));
  EXPECT_TRUE(scene.old_pipe.read_until("v1:o", got)) << got;
  auto s = scene.proxy->stats();
  EXPECT_EQ(s.upgraded_by_release["v1"], 1u);
  EXPECT_EQ(s.upgraded_by_release["v2"], 1u);
}

TEST(Upgrade, ThePipeOfAReleaseOutOfTrafficIsClosedAfterTheDrainDeadline) {
  ProxyLimits limits;
  limits.upgrade_drain_timeout = std::chrono::milliseconds(50);
  SwapScene scene(limits);
  // No request arrives on v1's pipe: the worker notices the swap by itself.
  EXPECT_TRUE(scene.old_pipe.read_until_closed());
  EXPECT_TRUE(eventually([&] { return scene.proxy->stats().upgraded_by_release.count("v1") == 0; }));
  ASSERT_TRUE(scene.new_pipe->send_raw("still"));
  EXPECT_TRUE(scene.new_pipe->read_until("v2:still", scene.got)) << scene.got;
}

TEST(Upgrade, AReleaseThatDeclinesAnswersAsUsualAndTheConnectionStaysHttp) {
  TestUpstream v1("v1");
  Routes routes(RouteTable{{Upstream{"v1", "127.0.0.1", v1.port(), 1}}, ""});
  auto proxy = start_proxy(routes);
  Proxy& p = *proxy;
  RawClient c(p.port());
  ASSERT_TRUE(c.send_raw(kUpgradeRequest));
  auto r = c.read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 200u);
  EXPECT_EQ(v1.last_headers()["upgrade"], "websocket");
  auto r2 = c.get("/next");
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->body(), "v1");
  EXPECT_EQ(p.stats().upgrades, 0u);
}

TEST(Upgrade, A101ToARequestThatAskedForNoUpgradeIs502) {
  UpgradeUpstream rogue("v1");
  Routes routes(RouteTable{{rogue.route()}, ""});
  auto proxy = start_proxy(routes);
  Proxy& p = *proxy;
  RawClient c(p.port());
  auto r = c.get("/plain");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 502u);
  EXPECT_NE(r->body().find("switched protocols for a request that asked for none"), std::string::npos);
  EXPECT_EQ(p.stats().upgrades, 0u);
}

}  // namespace
}  // namespace villager::proxy
