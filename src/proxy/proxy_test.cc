#include "proxy/proxy.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "proxy/test_servers.h"

namespace villager::proxy {
namespace {

using testing::eventually;
using testing::RawClient;
using testing::TestUpstream;
using testing::unused_port;

Upstream to(const TestUpstream& u, int weight = 1) {
  return Upstream{u.release(), "127.0.0.1", u.port(), weight};
}

// A started proxy on an ephemeral port, stopped when the test ends (also on failure).
struct RunningProxy {
  RunningProxy(Routes& routes, ProxyLimits limits = {}, RequestObserver observer = {}, int threads = 1)
      : proxy(ProxyOptions{"127.0.0.1:0", threads, limits, std::move(observer)}, routes) {
    Status s = proxy.start();
    EXPECT_TRUE(s.ok()) << s.error().message;
  }
  uint16_t port() const { return proxy.port(); }
  Proxy proxy;
};

bool is_json_error(const RawClient::Response& r) {
  return r[boost::beast::http::field::content_type] == "application/json" &&
         r.body().rfind("{\"status\":\"error\",\"message\":", 0) == 0;
}

TEST(Proxy, ForwardsWithForwardedHeadersAndStripsHopByHop) {
  TestUpstream a("v1");
  Routes routes(RouteTable{{to(a)}, ""});
  RunningProxy p(routes);
  RawClient c(p.port());
  ASSERT_TRUE(c.send("GET", "/x",
                     "X-Forwarded-For: 203.0.113.9\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: evil\r\n"
                     "Forwarded: for=1.2.3.4\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\n"));
  auto r = c.read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 200u);
  EXPECT_EQ(r->body(), "v1");
  // By default a client's own forwarding headers are dropped: anyone can write them.
  EXPECT_EQ((*r)["x-seen-xff"], "127.0.0.1");
  EXPECT_EQ((*r)["x-seen-proto"], "http");
  auto seen = a.last_headers();
  EXPECT_EQ(seen["x-forwarded-host"], "test");
  EXPECT_EQ(seen.count("forwarded"), 0u);
  EXPECT_EQ(seen.count("x-hop"), 0u);
  EXPECT_EQ(seen.count("connection"), 0u);
  // Keep-alive on both sides: a second request on the same client connection reuses the upstream one.
  auto r2 = c.get("/y");
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->body(), "v1");
  EXPECT_EQ(a.accepted(), 1);
}

TEST(Proxy, ClientForwardedHeadersAreAppendedToWhenConfigured) {
  TestUpstream a("v1");
  Routes routes(RouteTable{{to(a)}, ""});
  Proxy proxy(ProxyOptions{"127.0.0.1:0", 1, {}, {}, ClientForwarded::kAppend}, routes);
  ASSERT_TRUE(proxy.start().ok());
  RawClient c(proxy.port());
  auto r = c.get("/x",
                 "X-Forwarded-For: 203.0.113.9\r\nX-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Proto: https\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["x-seen-xff"], "203.0.113.9, 10.0.0.1, 127.0.0.1");
  EXPECT_EQ((*r)["x-seen-proto"], "https");
  EXPECT_EQ(a.last_headers()["x-forwarded-host"], "test");
}

// Each class of ambiguous or malformed framing (RFC 9112) is answered 400 and the connection closed,
// and the release never sees a byte of it: not one connection reaches the upstream.
TEST(Proxy, MalformedFramingIs400AndNeverReachesTheRelease) {
  TestUpstream a("v1");
  Routes routes(RouteTable{{to(a)}, ""});
  RunningProxy p(routes);
  const std::string post = "POST /u HTTP/1.1\r\nHost: t\r\n";
  const std::string chunked = post + "Transfer-Encoding: chunked\r\n\r\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"conflicting Content-Length", post + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"},
      {"repeated Content-Length", post + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello"},
      {"Content-Length list", post + "Content-Length: 5, 5\r\n\r\nhello"},
      {"negative Content-Length", post + "Content-Length: -5\r\n\r\nhello"},
      {"signed Content-Length", post + "Content-Length: +5\r\n\r\nhello"},
      {"hex Content-Length", post + "Content-Length: 0x5\r\n\r\nhello"},
      {"huge Content-Length", post + "Content-Length: 99999999999999999999999\r\n\r\nhello"},
      {"TE and CL", post + "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n"},
      {"CL and TE", post + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"},
      {"TE not chunked", post + "Transfer-Encoding: gzip\r\n\r\nabc"},
      {"TE chunked not final", post + "Transfer-Encoding: chunked, gzip\r\n\r\n3\r\nabc\r\n0\r\n\r\n"},
      {"TE coding before chunked", post + "Transfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"},
      {"TE chunked twice", post + "Transfer-Encoding: chunked, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"},
      {"repeated TE", post + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
      {"TE look-alike", post + "Transfer-Encoding: xchunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"},
      {"TE on HTTP/1.0", "POST /u HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"},
      {"chunk size not hex", chunked + "zz\r\nabc\r\n0\r\n\r\n"},
      {"chunk size negative", chunked + "-3\r\nabc\r\n0\r\n\r\n"},
      {"chunk size 0x", chunked + "0x3\r\nabc\r\n0\r\n\r\n"},
      {"chunk size overflow", chunked + "1ffffffffffffffff\r\nabc\r\n0\r\n\r\n"},
      {"chunk size empty", chunked + "\r\nabc\r\n0\r\n\r\n"},
      {"chunk longer than its size", chunked + "3\r\nabcdef\r\n0\r\n\r\n"},
      {"chunk size with space", chunked + "3 3\r\nabc\r\n0\r\n\r\n"},
      {"space before colon", "GET / HTTP/1.1\r\nHost : t\r\n\r\n"},
      {"tab before colon", "GET / HTTP/1.1\r\nHost: t\r\nX-A\t: 1\r\n\r\n"},
      {"space before colon in CL", post + "Content-Length : 5\r\n\r\nhello"},
      {"missing Host", "GET / HTTP/1.1\r\nX-A: 1\r\n\r\n"},
      {"repeated Host", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"},
      {"NUL in a value", std::string("GET / HTTP/1.1\r\nHost: t\r\nX-A: a") + '\0' + "b\r\n\r\n"},
      {"SOH in a value", "GET / HTTP/1.1\r\nHost: t\r\nX-A: a\x01b\r\n\r\n"},
      {"DEL in a value", "GET / HTTP/1.1\r\nHost: t\r\nX-A: a\x7f\r\n\r\n"},
      {"bare CR in a value", "GET / HTTP/1.1\r\nHost: t\r\nX-A: a\rb\r\n\r\n"},
      {"bare LF line ends", "GET / HTTP/1.1\nHost: t\n\n"},
      {"obsolete line folding", "GET / HTTP/1.1\r\nHost: t\r\nX-A: a\r\n b\r\n\r\n"},
      {"space in the target", "GET /a b HTTP/1.1\r\nHost: t\r\n\r\n"},
      {"unknown version", "GET / HTTP/1.2x\r\nHost: t\r\n\r\n"},
  };
  for (const auto& [name, bytes] : cases) {
    SCOPED_TRACE(name);
    RawClient c(p.port());
    ASSERT_TRUE(c.send_raw(bytes));
    auto r = c.read();
    ASSERT_TRUE(r) << "no answer";
    EXPECT_EQ(r->result_int(), 400u) << r->body();
    EXPECT_TRUE(is_json_error(*r)) << r->body();
    EXPECT_FALSE(r->keep_alive());
    EXPECT_TRUE(c.closed_by_peer());
    EXPECT_EQ(a.accepted(), 0) << "the release saw a connection";
  }
  // The same requests framed correctly are forwarded (the rules refuse only what is ambiguous).
  const std::vector<std::string> fine = {
      post + "Content-Length: 005\r\n\r\nhello",
      post + "Transfer-Encoding: Chunked\r\n\r\n3;ext=1\r\nabc\r\n0\r\n\r\n",
      "GET / HTTP/1.0\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: t\r\nX-A: a\tb \x80\r\n\r\n",
  };
  for (const auto& bytes : fine) {
    SCOPED_TRACE(bytes);
    RawClient c(p.port());
    ASSERT_TRUE(c.send_raw(bytes));
    auto r = c.read();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->result_int(), 200u) << r->body();
  }
  EXPECT_EQ(a.received(), static_cast<int>(fine.size()));
}

TEST(Proxy, PostBodyIsForwarded) {
  TestUpstream a("v1");
  Routes routes(RouteTable{{to(a)}, ""});
  RunningProxy p(routes);
  RawClient c(p.port());
  ASSERT_TRUE(c.send("POST", "/api/transfers/upload/ab", "", std::string(5000, 'x')));
  auto r = c.read();
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["x-seen-body-bytes"], "5000");
  // Chunked request bodies are de-chunked and sent with a length.
  ASSERT_TRUE(c.send_raw(
      "POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"));
  auto r2 = c.read();
  ASSERT_TRUE(r2);
  EXPECT_EQ((*r2)["x-seen-body-bytes"], "5");
}

// A body that arrived whole with its head goes out with a length; one still streaming goes out with its
// upstream length or, when it had none (chunked, close-delimited), chunked to an HTTP/1.1 client.
TEST(Proxy, ChunkedCloseDelimitedAndLargeResponsesAreReframedForTheClient) {
  TestUpstream a("v1");
  Routes routes(RouteTable{{to(a)}, ""});
  RunningProxy p(routes);
  RawClient c(p.port());
  // Sizes on both sides of the proxy's 16 KiB inline-body limit and of its 64 KiB read size.
  for (size_t n : {0ul, 5ul, 16384ul, 16385ul, 70000ul, 3000000ul}) {
    for (std::string kind : {"chunked", "close", "big"}) {
      SCOPED_TRACE(kind + " " + std::to_string(n));
      auto r = c.get("/" + kind + "/" + std::to_string(n));
      ASSERT_TRUE(r);
      EXPECT_EQ(r->result_int(), 200u);
      EXPECT_EQ(r->body().size(), n);
      if (r->count(boost::beast::http::field::transfer_encoding) > 0) {
        EXPECT_NE(kind, "big");  // a length known upstream is kept
        EXPECT_EQ((*r)[boost::beast::http::field::transfer_encoding], "chunked");
        EXPECT_EQ(r->count(boost::beast::http::field::content_length), 0u);
      } else {
        EXPECT_EQ((*r)[boost::beast::http::field::content_length], std::to_string(n));
      }
      // A close-delimited upstream connection is not pooled, but the client's stays open.
      EXPECT_TRUE(r->keep_alive());
    }
  }
}

TEST(Proxy, ExpectContinueIsAnsweredThenTheBodyForwarded) {
  TestUpstream a("v1");
  Routes routes(RouteTable{{to(a)}, ""});
  RunningProxy p(routes);
  RawClient c(p.port());
  ASSERT_TRUE(c.send_raw("PUT /u HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n"));
  auto interim = c.read();
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->result_int(), 100u);
  ASSERT_TRUE(c.send_raw("0123456789"));
  auto r = c.read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 200u);
  EXPECT_EQ((*r)["x-seen-body-bytes"], "10");
  EXPECT_EQ(a.last_headers().count("expect"), 0u);
}

TEST(Proxy, WeightsSplitTrafficWithinBinomialTolerance) {
  TestUpstream a("v1"), b("v2");
  Routes routes(RouteTable{{to(a, 1), to(b, 3)}, ""});
  RunningProxy p(routes);
  RawClient c(p.port());
  const int n = 1000;
  int v2 = 0;
  for (int i = 0; i < n; ++i) {
    auto r = c.get("/");
    ASSERT_TRUE(r);
    v2 += r->body() == "v2";
  }
  const double mean = n * 0.75, sd = std::sqrt(n * 0.75 * 0.25);
  EXPECT_NEAR(v2, mean, 5 * sd);
}

TEST(Proxy, StickyCookiePinsARelease) {
  TestUpstream a("v1"), b("v2");
  Routes routes(RouteTable{{to(a), to(b)}, "villager_release"});
  RunningProxy p(routes);
  RawClient c(p.port());
  auto first = c.get("/");
  ASSERT_TRUE(first);
  std::string set = std::string((*first)[boost::beast::http::field::set_cookie]);
  ASSERT_EQ(set.rfind("villager_release=" + first->body() + ";", 0), 0u) << set;
  for (int i = 0; i < 50; ++i) {
    auto r = c.get("/", "Cookie: villager_release=" + first->body() + "\r\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body(), first->body());
    EXPECT_EQ(r->count(boost::beast::http::field::set_cookie), 0u);
  }
  // The pinned release leaves the table: the request goes to the other one and the cookie is re-set.
  std::string other = first->body() == "v1" ? "v2" : "v1";
  ASSERT_TRUE(routes.store(RouteTable{{other == "v1" ? to(a) : to(b)}, "villager_release"}).ok());
  auto moved = c.get("/", "Cookie: villager_release=" + first->body() + "\r\n");
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->body(), other);
  EXPECT_EQ(
      std::string((*moved)[boost::beast::http::field::set_cookie]).rfind("villager_release=" + other, 0), 0u);
}

TEST(Proxy, SwapUnderConcurrentKeepAliveLoadFailsNoRequest) {
  TestUpstream a("v1"), b("v2");
  Routes routes(RouteTable{{to(a)}, ""});
  RunningProxy p(routes, {}, {}, 2);
  std::atomic<bool> done{false};
  std::atomic<int> ok{0}, failed{0};
  std::mutex mu;
  std::vector<std::string> bad;
  std::vector<std::thread> clients;
  for (int t = 0; t < 6; ++t) {
    clients.emplace_back([&] {
      RawClient c(p.port());
      while (!done) {
        auto r = c.get("/");
        if (r && r->result_int() == 200 && (r->body() == "v1" || r->body() == "v2") &&
            (*r)["x-release"] == r->body()) {
          ++ok;
        } else {
          ++failed;
          std::lock_guard lock(mu);
          bad.push_back(r ? std::to_string(r->result_int()) + " " + r->body() : "no response");
          return;
        }
      }
    });
  }
  const std::vector<RouteTable> tables = {RouteTable{{to(b)}, ""}, RouteTable{{to(a), to(b)}, ""},
                                          RouteTable{{to(a)}, ""}, RouteTable{{to(a, 0), to(b, 1)}, ""}};
  for (int i = 0; i < 100; ++i) {
    const RouteTable& t = tables[i % tables.size()];
    ASSERT_TRUE(routes.store(t).ok());
    // Closing the pooled connections of whichever release lost its traffic, as the agent does after a swap.
    for (const Upstream& u : t.upstreams) {
      if (u.weight == 0) p.proxy.drain(u.release_id);
    }
    if (t.upstreams.size() == 1) p.proxy.drain(t.upstreams[0].release_id == "v1" ? "v2" : "v1");
    int target = ok.load() + 20;
    ASSERT_TRUE(eventually([&] { return ok.load() >= target || failed.load() > 0; }));
  }
  done = true;
  for (auto& t : clients) t.join();
  EXPECT_EQ(failed.load(), 0) << (bad.empty() ? "" : bad[0]);
  EXPECT_GT(ok.load(), 2000);
}

TEST(Proxy, UpstreamDownIs502) {
  Routes routes(RouteTable{{Upstream{"v1", "127.0.0.1", unused_port(), 1}}, ""});
  RunningProxy p(routes);
  RawClient c(p.port());
  auto r = c.get("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 502u);
  EXPECT_TRUE(is_json_error(*r)) << r->body();
  EXPECT_NE(r->body().find("upstream v1 at 127.0.0.1:"), std::string::npos) << r->body();
  EXPECT_TRUE(r->keep_alive());
}

TEST(Proxy, EmptyTableIs503) {
  Routes routes;
  RunningProxy p(routes);
  RawClient c(p.port());
  auto r = c.get("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 503u);
  EXPECT_TRUE(is_json_error(*r)) << r->body();
  // The connection stays usable: the next request on it is answered too.
  auto r2 = c.get("/");
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->result_int(), 503u);
}

TEST(Proxy, ErrorAnswerToHeadHasALengthButNoBody) {
  Routes routes;
  RunningProxy p(routes);
  RawClient c(p.port());
  ASSERT_TRUE(c.send_raw("HEAD / HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto head = c.read(/*head=*/true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->result_int(), 503u);
  EXPECT_NE((*head)[boost::beast::http::field::content_length], "0");
  // Had a body followed the HEAD answer, it would be read here as the start of the next response.
  auto get = c.read();
  ASSERT_TRUE(get);
  EXPECT_EQ(get->result_int(), 503u);
  EXPECT_TRUE(is_json_error(*get)) << get->body();
}

TEST(Proxy, SlowUpstreamIs504AndTheProxyKeepsServing) {
  TestUpstream a("v1");
  Routes routes(RouteTable{{to(a)}, ""});
  ProxyLimits limits;
  limits.upstream_timeout = std::chrono::milliseconds(200);
  RunningProxy p(routes, limits);
  RawClient c(p.port());
  auto r = c.get("/slow/5000");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 504u);
  EXPECT_TRUE(is_json_error(*r)) << r->body();
  EXPECT_NE(r->body().find("no response within 200ms"), std::string::npos) << r->body();
  auto r2 = c.get("/fast");
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->result_int(), 200u);
}

TEST(Proxy, HugeHeaderIs431) {
  TestUpstream a("v1");
  Routes routes(RouteTable{{to(a)}, ""});
  ProxyLimits limits;
  limits.max_header_bytes = 1024;
  RunningProxy p(routes, limits);
  RawClient c(p.port());
  auto r = c.get("/", "X-Big: " + std::string(4000, 'a') + "\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 431u);
  EXPECT_TRUE(is_json_error(*r)) << r->body();
  EXPECT_EQ(a.requests(), 0);
}

TEST(Proxy, HugeBodyIs413) {
  TestUpstream a("v1");
  Routes routes(RouteTable{{to(a)}, ""});
  ProxyLimits limits;
  limits.max_body_bytes = 1024;
  RunningProxy p(routes, limits);
  RawClient c(p.port());
  ASSERT_TRUE(c.send("POST", "/", "", std::string(5000, 'x')));
  auto r = c.read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 413u);
  EXPECT_TRUE(is_json_error(*r)) << r->body();
  EXPECT_EQ(a.requests(), 0);
  // Expect: 100-continue with a body over the limit is refused before the body is sent.
  RawClient c2(p.port());
  ASSERT_TRUE(
      c2.send_raw("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 999999\r\nExpect: 100-continue\r\n\r\n"));
  auto r2 = c2.read();
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->result_int(), 413u);
}

// A chunked body of `n` bytes in chunks of 1000, as raw bytes.
std::string chunked_body(size_t n) {
  std::string out;
  for (size_t at = 0; at < n; at += 1000) {
    const size_t k = std::min<size_t>(1000, n - at);
    char size[16];
    std::snprintf(size, sizeof size, "%zx\r\n", k);
    out += size + std::string(k, 'c') + "\r\n";
  }
  return out + "0\r\n\r\n";
}

TEST(Proxy, LargeAndChunkedRequestBodiesAreStreamedWithTheirFraming) {
  TestUpstream a("v1");
  Routes routes(RouteTable{{to(a)}, ""});
  RunningProxy p(routes);
  RawClient c(p.port());
  // Larger than the 64 KiB relay buffer many times over; the connection is reused after each.
  for (size_t n : {16385ul, 70000ul, 3000000ul}) {
    SCOPED_TRACE(n);
    ASSERT_TRUE(c.send("POST", "/up", "", std::string(n, 'l')));
    auto r = c.read();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->result_int(), 200u);
    EXPECT_EQ((*r)["x-seen-body-bytes"], std::to_string(n));
    EXPECT_EQ(a.last_headers()["content-length"], std::to_string(n));
    ASSERT_TRUE(
        c.send_raw("POST /up HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked_body(n)));
    r = c.read();
    ASSERT_TRUE(r);
    EXPECT_EQ((*r)["x-seen-body-bytes"], std::to_string(n));
    // Still arriving when the upstream was contacted: relayed chunked, re-framed by the proxy.
    if (n == 3000000) {
      EXPECT_EQ(a.last_headers()["transfer-encoding"], "chunked");
    }
  }
  // A chunked body that arrived whole with its header goes with a length.
  ASSERT_TRUE(
      c.send_raw("POST /up HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked_body(10)));
  auto r = c.read();
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["x-seen-body-bytes"], "10");
  EXPECT_EQ(a.last_headers()["content-length"], "10");
  EXPECT_EQ(a.last_headers().count("transfer-encoding"), 0u);
}

TEST(Proxy, ChunkedBodyOverTheLimitIs413AsItStreams) {
  TestUpstream a("v1");
  Routes routes(RouteTable{{to(a)}, ""});
  ProxyLimits limits;
  limits.max_body_bytes = 100000;
  RunningProxy p(routes, limits);
  RawClient c(p.port());
  ASSERT_TRUE(c.send_raw("POST /up HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" +
                         chunked_body(300000)));
  auto r = c.read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 413u);
  EXPECT_TRUE(is_json_error(*r)) << r->body();
  EXPECT_TRUE(c.closed_by_peer());
  // The release saw part of a request that never ended; it never answered one.
  EXPECT_EQ(a.requests(), 0);
}

TEST(Proxy, ServerSentEventsReachTheClientBeforeTheStreamEnds) {
  TestUpstream a("v1");
  Routes routes(RouteTable{{to(a)}, ""});
  RunningProxy p(routes);
  RawClient c(p.port());
  ASSERT_TRUE(c.send("GET", "/sse"));
  std::string got;
  // The upstream holds the stream open after its first event: a buffering proxy would send nothing.
  ASSERT_TRUE(c.read_until("data: 1\n\n", got)) << got;
  EXPECT_NE(got.find("text/event-stream"), std::string::npos);
  EXPECT_NE(got.find("Transfer-Encoding: chunked"), std::string::npos);
  a.release_streams();
  ASSERT_TRUE(c.read_until("0\r\n\r\n", got)) << got;
  // The stream ended cleanly: the connection serves the next request.
  auto r = c.get("/after");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 200u);
}

TEST(Proxy, ALongStreamIsCutOnlyByIdleTimePerPhase) {
  TestUpstream a("v1");
  Routes routes(RouteTable{{to(a)}, ""});
  ProxyLimits limits;
  limits.request_timeout = std::chrono::milliseconds(500);
  limits.upstream_timeout = std::chrono::milliseconds(500);
  RunningProxy p(routes, limits);
  RawClient c(p.port());
  // 12 events 100 ms apart: the stream lasts over twice the timeouts, its gaps stay well under them.
  auto r = c.get("/drip/12/100");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 200u);
  EXPECT_EQ(r->body().size(), 12 * std::string("data: 1\n\n").size());
}

TEST(Proxy, InterimResponsesAreNotTakenForTheAnswer) {
  TestUpstream a("v1");
  Routes routes(RouteTable{{to(a)}, ""});
  RunningProxy p(routes);
  RawClient c(p.port());
  auto r = c.get("/early");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 200u);
  EXPECT_EQ((*r)["x-release"], "v1");
  EXPECT_EQ(c.get("/next")->result_int(), 200u);
}

TEST(Proxy, StreamBufferHasAMinimum) {
  Routes routes;
  ProxyLimits limits;
  limits.stream_buffer_bytes = 16;
  Proxy proxy(ProxyOptions{"127.0.0.1:0", 1, limits, {}}, routes);
  Status s = proxy.start();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("stream_buffer_bytes"), std::string::npos) << s.error().message;
}

TEST(Proxy, ConnectionCapAnswers503WithRetryAfterAndCloses) {
  TestUpstream a("v1");
  Routes routes(RouteTable{{to(a)}, ""});
  ProxyLimits limits;
  limits.max_connections = 2;
  RunningProxy p(routes, limits);
  auto first = std::make_unique<RawClient>(p.port());
  RawClient second(p.port());
  ASSERT_EQ(first->get("/")->result_int(), 200u);
  ASSERT_EQ(second.get("/")->result_int(), 200u);
  RawClient third(p.port());
  auto r = third.get("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 503u);
  EXPECT_EQ((*r)[boost::beast::http::field::retry_after], "1");
  EXPECT_NE(r->body().find("too many connections: 2 open"), std::string::npos) << r->body();
  EXPECT_TRUE(third.closed_by_peer());
  EXPECT_EQ(a.requests(), 2);
  EXPECT_GE(p.proxy.stats().shed, 1u);
  // A closed connection frees its place.
  first.reset();
  EXPECT_TRUE(eventually([&] {
    RawClient next(p.port());
    auto n = next.get("/");
    return n && n->result_int() == 200u;
  }));
}

TEST(Proxy, PerClientIpCapAnswers503) {
  TestUpstream a("v1");
  Routes routes(RouteTable{{to(a)}, ""});
  ProxyLimits limits;
  limits.max_connections_per_ip = 1;
  RunningProxy p(routes, limits);
  RawClient first(p.port());
  ASSERT_EQ(first.get("/")->result_int(), 200u);
  RawClient second(p.port());
  auto r = second.get("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 503u);
  EXPECT_EQ((*r)[boost::beast::http::field::retry_after], "1");
  EXPECT_NE(r->body().find("too many connections from this client: 1 open"), std::string::npos) << r->body();
  // The first connection is unaffected.
  EXPECT_EQ(first.get("/")->result_int(), 200u);
}

TEST(Proxy, SaturatedReleaseShedsWith503InsteadOfQueueing) {
  TestUpstream a("v1");
  Routes routes(RouteTable{{to(a)}, ""});
  ProxyLimits limits;
  limits.max_inflight_per_release = 1;
  RunningProxy p(routes, limits);
  RawClient busy(p.port());
  ASSERT_TRUE(busy.send("GET", "/slow/1500"));
  ASSERT_TRUE(eventually([&] { return a.received() == 1; }));
  RawClient other(p.port());
  auto r = other.get("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 503u);
  EXPECT_EQ((*r)[boost::beast::http::field::retry_after], "1");
  EXPECT_NE(r->body().find("release v1 is saturated: 1 requests in flight"), std::string::npos) << r->body();
  EXPECT_TRUE(r->keep_alive());
  EXPECT_EQ(a.received(), 1);  // the shed request never reached the release
  ASSERT_EQ(busy.read()->result_int(), 200u);
  // Once the slow request ended, the same connection is served.
  EXPECT_EQ(other.get("/")->result_int(), 200u);
}

TEST(Proxy, GarbageIs400AndOthersAreStillServed) {
  TestUpstream a("v1");
  Routes routes(RouteTable{{to(a)}, ""});
  RunningProxy p(routes);
  RawClient bad(p.port());
  ASSERT_TRUE(bad.send_raw("\x01\x02 NOT HTTP AT ALL\r\n\r\n"));
  auto r = bad.read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 400u);
  EXPECT_TRUE(is_json_error(*r)) << r->body();
  EXPECT_TRUE(bad.closed_by_peer());
  RawClient good(p.port());
  auto r2 = good.get("/");
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->result_int(), 200u);
}

// Mutated requests (bytes flipped, inserted, dropped, cut short), each on its own connection that the
// client then half-closes: the proxy answers with HTTP or nothing, closes every one of them, and still
// serves a well-formed request afterwards. The seed is fixed, so a failure names a reproducible case.
TEST(Proxy, MutatedRequestsGetAnAnswerOrACloseAndNeverStopTheProxy) {
  TestUpstream a("v1");
  Routes routes(RouteTable{{to(a)}, ""});
  ProxyLimits limits;
  limits.max_header_bytes = 2048;
  limits.max_body_bytes = 4096;
  RunningProxy p(routes, limits);
  const std::string valid =
      "POST /api/transfers/upload/ab HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello"
      "GET /b HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
      "HEAD /c HTTP/1.1\r\nHost: t\r\nConnection: keep-alive\r\n\r\n";
  std::mt19937 rng(20261127);
  for (int round = 0; round < 300; ++round) {
    std::string bytes = valid;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !bytes.empty(); ++e) {
      const size_t at = rng() % bytes.size();
      switch (rng() % 4) {
        case 0:
          bytes[at] = static_cast<char>(rng() % 256);
          break;
        case 1:
          bytes.insert(at, 1, static_cast<char>(rng() % 256));
          break;
        case 2:
          bytes.erase(at, 1 + rng() % 8);
          break;
        default:
          bytes.resize(at);
          break;
      }
    }
    SCOPED_TRACE("round " + std::to_string(round));
    RawClient c(p.port());
    ASSERT_TRUE(c.send_raw(bytes));
    c.finish_sending();
    auto answer = c.read_until_closed();
    ASSERT_TRUE(answer) << "the proxy kept the connection open after the client's EOF";
    if (!answer->empty()) {
      EXPECT_EQ(answer->rfind("HTTP/1.1 ", 0), 0u) << answer->substr(0, 80);
    }
  }
  RawClient c(p.port());
  auto r = c.get("/after");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 200u);
  EXPECT_EQ(r->body(), "v1");
}

TEST(Proxy, StalePooledConnectionIsRetriedTransparently) {
  TestUpstream a("v1");
  Routes routes(RouteTable{{to(a)}, ""});
  RunningProxy p(routes);
  RawClient c(p.port());
  ASSERT_TRUE(c.get("/"));
  ASSERT_EQ(a.accepted(), 1);
  // The upstream drops its keep-alive connection (restart, keep-alive timeout) while the proxy pools it.
  a.close_connections();
  auto r = c.get("/again");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 200u) << r->body();
  EXPECT_EQ(p.proxy.stats().stale_retries, 1u);
  EXPECT_EQ(a.accepted(), 2);
  // A POST is never sent twice: the proxy checks a pooled connection before using it instead.
  a.close_connections();
  ASSERT_TRUE(c.send("POST", "/p", "", "body"));
  auto post = c.read();
  ASSERT_TRUE(post);
  EXPECT_EQ(post->result_int(), 200u) << post->body();
  EXPECT_EQ(p.proxy.stats().stale_retries, 1u);
}

TEST(Proxy, GracefulStopLetsAnInflightRequestFinish) {
  TestUpstream a("v1");
  Routes routes(RouteTable{{to(a)}, ""});
  auto p = std::make_unique<RunningProxy>(routes);
  const uint16_t port = p->port();
  RawClient idle(port);
  ASSERT_TRUE(idle.get("/"));  // an idle keep-alive connection: closed at once by stop()
  RawClient busy(port);
  ASSERT_TRUE(busy.send("GET", "/slow/700"));
  ASSERT_TRUE(eventually([&] { return a.received() == 2; }));
  std::thread stopper([&] { p->proxy.stop(); });
  auto r = busy.read();
  stopper.join();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 200u);
  EXPECT_EQ(r->body(), "v1");
  EXPECT_FALSE(r->keep_alive());
  EXPECT_TRUE(idle.closed_by_peer());
  RawClient after(port);
  EXPECT_FALSE(after.connected());
}

TEST(Proxy, StopForcesConnectionsClosedAfterTheDrainDeadline) {
  TestUpstream a("v1");
  Routes routes(RouteTable{{to(a)}, ""});
  ProxyLimits limits;
  limits.drain_timeout = std::chrono::milliseconds(100);
  RunningProxy p(routes, limits);
  RawClient busy(p.port());
  ASSERT_TRUE(busy.send("GET", "/slow/8000"));
  ASSERT_TRUE(eventually([&] { return a.open_connections() == 1; }));
  p.proxy.stop();  // returns after the drain deadline, not after the upstream's 8 s
  auto r = busy.read();
  EXPECT_FALSE(r) << r->result_int() << " " << r->body();
}

TEST(Proxy, PipelinedRequestsAreAnsweredInOrder) {
  TestUpstream a("v1"), b("v2");
  Routes routes(RouteTable{{to(a)}, ""});
  RunningProxy p(routes);
  RawClient c(p.port());
  ASSERT_TRUE(
      c.send_raw("GET /1 HTTP/1.1\r\nHost: t\r\n\r\nHEAD /2 HTTP/1.1\r\nHost: t\r\n\r\nGET /3 "
                 "HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto r1 = c.read();
  auto r2 = c.read(/*head=*/true);
  auto r3 = c.read();
  ASSERT_TRUE(r1 && r2 && r3);
  EXPECT_EQ(r1->body(), "v1");
  EXPECT_EQ(r2->body(), "");
  EXPECT_EQ((*r2)[boost::beast::http::field::content_length], "2");
  EXPECT_EQ(r3->body(), "v1");
}

TEST(Proxy, Http10ClientGetsItsConnectionClosed) {
  TestUpstream a("v1");
  Routes routes(RouteTable{{to(a)}, ""});
  RunningProxy p(routes);
  RawClient c(p.port());
  ASSERT_TRUE(c.send_raw("GET / HTTP/1.0\r\n\r\n"));
  auto r = c.read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->version(), 10u);
  EXPECT_EQ(r->body(), "v1");
  EXPECT_TRUE(c.closed_by_peer());
}

TEST(Proxy, DrainClosesPooledConnectionsToTheOldRelease) {
  TestUpstream a("v1"), b("v2");
  Routes routes(RouteTable{{to(a)}, ""});
  RunningProxy p(routes);
  RawClient c(p.port());
  ASSERT_TRUE(c.get("/"));
  ASSERT_EQ(a.open_connections(), 1);
  ASSERT_TRUE(routes.store(RouteTable{{to(a, 0), to(b)}, ""}).ok());
  p.proxy.drain("v1");
  EXPECT_TRUE(eventually([&] { return a.open_connections() == 0; }));
  auto r = c.get("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body(), "v2");
}

TEST(Proxy, ObserverSeesEveryCompletedRequest) {
  TestUpstream a("v1");
  Routes routes(RouteTable{{to(a)}, ""});
  std::mutex mu;
  std::vector<std::pair<std::string, int>> seen;
  uint64_t bytes = 0;
  RunningProxy p(routes, {}, [&](const RequestRecord& r) {
    std::lock_guard lock(mu);
    seen.emplace_back(std::string(r.release_id), r.status);
    bytes += r.bytes_out;
  });
  RawClient c(p.port());
  ASSERT_TRUE(c.get("/"));
  ASSERT_TRUE(routes.store(RouteTable{}).ok());
  ASSERT_TRUE(c.get("/"));
  // The observer runs once the write completed, which may be just after the client has the bytes.
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(mu);
    return seen.size() == 2;
  }));
  std::lock_guard lock(mu);
  EXPECT_EQ(seen[0], (std::pair<std::string, int>("v1", 200)));
  EXPECT_EQ(seen[1], (std::pair<std::string, int>("", 503)));
  EXPECT_GE(bytes, 2u);
}

TEST(Proxy, HostNamesAreResolved) {
  TestUpstream a("v1");
  Routes routes(RouteTable{{Upstream{"v1", "localhost", a.port(), 1}}, ""});
  RunningProxy p(routes);
  RawClient c(p.port());
  auto r = c.get("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body(), "v1");
  ASSERT_TRUE(routes.store(RouteTable{{Upstream{"v1", "no-such-host.invalid", a.port(), 1}}, ""}).ok());
  auto bad = c.get("/");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->result_int(), 502u);
  EXPECT_NE(bad->body().find("does not resolve"), std::string::npos) << bad->body();
}

TEST(Proxy, IdleClientConnectionIsClosedAfterIdleTimeout) {
  TestUpstream a("v1");
  Routes routes(RouteTable{{to(a)}, ""});
  ProxyLimits limits;
  limits.idle_timeout = std::chrono::milliseconds(100);
  RunningProxy p(routes, limits);
  RawClient silent(p.port());
  EXPECT_TRUE(silent.closed_by_peer());
  // A header that never ends is bounded by the same deadline (slow loris).
  RawClient slow(p.port());
  ASSERT_TRUE(slow.send_raw("GET / HTTP/1.1\r\nHost: t\r\n"));
  EXPECT_TRUE(slow.closed_by_peer());
}

TEST(Proxy, OversizedUpstreamResponseIs502) {
  TestUpstream a("v1-with-a-long-release-name");
  Routes routes(RouteTable{{to(a)}, ""});
  ProxyLimits limits;
  limits.max_response_bytes = 4;
  RunningProxy p(routes, limits);
  RawClient c(p.port());
  auto r = c.get("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 502u);
  EXPECT_TRUE(is_json_error(*r)) << r->body();
}

TEST(Proxy, BindErrorNamesTheAddress) {
  Routes routes;
  RunningProxy first(routes);
  const std::string listen = "127.0.0.1:" + std::to_string(first.port());
  Proxy second(ProxyOptions{listen, 1, {}, {}}, routes);
  Status s = second.start();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("listening on " + listen + ": bind"), std::string::npos)
      << s.error().message;
  Proxy bad(ProxyOptions{"nowhere", 1, {}, {}}, routes);
  EXPECT_FALSE(bad.start().ok());
}

}  // namespace
}  // namespace villager::proxy
