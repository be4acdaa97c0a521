#include "proxy/http_rules.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>

namespace villager::proxy {
namespace {

namespace http = boost::beast::http;

// What Beast's own serializer puts on the wire for the message: the reference serialize_head must match.
template <class Message>
std::string beast_bytes(const Message& m) {
  std::ostringstream out;
  out << m;
  return out.str();
}

template <class Message>
std::string our_bytes(const Message& m) {
  std::string out = "left over from the previous message";
  serialize_head(m, out);
  out += m.body();
  return out;
}

TEST(HttpRules, SerializedRequestMatchesBeast) {
  Request req{http::verb::post, "/api/transfers/create?x=1", 11};
  req.set(http::field::host, "send.example");
  req.set(http::field::content_type, "application/json");
  req.set("X-Forwarded-For", "203.0.113.9, 127.0.0.1");
  req.insert("X-Repeated", "one");
  req.insert("X-Repeated", "two");
  req.body() = "{\"file_size_bytes\":12}";
  req.content_length(req.body().size());
  EXPECT_EQ(our_bytes(req), beast_bytes(req));

  Request odd;  // a method Beast has no enum for, HTTP/1.0, no fields, no body
  odd.method_string("PURGE");
  odd.target("/");
  odd.version(10);
  EXPECT_EQ(our_bytes(odd), beast_bytes(odd));
  EXPECT_EQ(our_bytes(odd), "PURGE / HTTP/1.0\r\n\r\n");
}

TEST(HttpRules, SerializedResponseMatchesBeastWithAndWithoutAReason) {
  Response upstream{http::status::ok, 11};
  upstream.reason("Fine Thanks");  // an upstream's own reason phrase is kept
  upstream.set(http::field::content_type, "text/plain");
  upstream.insert(http::field::set_cookie, "a=1");
  upstream.insert(http::field::set_cookie, "b=2");
  upstream.body() = "ok\n";
  upstream.content_length(3);
  EXPECT_EQ(our_bytes(upstream), beast_bytes(upstream));
  EXPECT_EQ(our_bytes(upstream).rfind("HTTP/1.1 200 Fine Thanks\r\n", 0), 0u);

  // Our own answers have no reason set: the standard one is written.
  Response error = error_response(http::status::gateway_timeout, "upstream v2: no response", 10, false);
  EXPECT_EQ(our_bytes(error), beast_bytes(error));
  EXPECT_EQ(our_bytes(error).rfind("HTTP/1.0 504 Gateway Timeout\r\n", 0), 0u);

  Response unknown{static_cast<http::status>(599), 11};  // a code Beast has no name for
  EXPECT_EQ(our_bytes(unknown), beast_bytes(unknown));
}

TEST(HttpRules, HopByHopHeadersAndTheOnesConnectionNamesAreStripped) {
  Request req{http::verb::get, "/", 11};
  req.set(http::field::connection, "keep-alive, X-Hop, close");
  req.set("X-Hop", "1");
  req.set(http::field::keep_alive, "timeout=5");
  req.set(http::field::transfer_encoding, "chunked");
  req.set(http::field::te, "trailers");
  req.set(http::field::upgrade, "websocket");
  req.set(http::field::proxy_authorization, "Basic eA==");
  req.set(http::field::host, "send.example");
  req.set("X-Keep", "yes");
  strip_hop_by_hop(req);
  std::string left;
  for (const auto& f : req) left += std::string(f.name_string()) + ";";
  EXPECT_EQ(left, "Host;X-Keep;");
}

TEST(HttpRules, WantsUpgradeNeedsTheHeaderAndTheConnectionToken) {
  Request req{http::verb::get, "/ws", 11};
  req.set(http::field::upgrade, "websocket");
  EXPECT_FALSE(wants_upgrade(req));  // no Connection: upgrade
  req.set(http::field::connection, "keep-alive, Upgrade");
  EXPECT_TRUE(wants_upgrade(req));
  req.version(10);
  EXPECT_FALSE(wants_upgrade(req));  // HTTP/1.0 has no Upgrade
  Request bare{http::verb::get, "/", 11};
  bare.set(http::field::connection, "upgrade");
  EXPECT_FALSE(wants_upgrade(bare));  // no Upgrade header
}

TEST(HttpRules, HttpsLocationKeepsHostAndTargetAndDropsThePort) {
  Request req{http::verb::get, "/a?b=1", 11};
  req.set(http::field::host, "example.com:8080");
  EXPECT_EQ(https_location(req, 443), "https://example.com/a?b=1");
  EXPECT_EQ(https_location(req, 8443), "https://example.com:8443/a?b=1");
  req.set(http::field::host, "[2001:db8::1]:80");
  EXPECT_EQ(https_location(req, 443), "https://[2001:db8::1]/a?b=1");
  Request absolute{http::verb::get, "http://example.com/p", 11};
  absolute.set(http::field::host, "example.com");
  EXPECT_EQ(https_location(absolute, 443), "https://example.com/p");
  for (const char* bad : {"", "evil.test/x", "a@b", "a b"}) {
    req.set(http::field::host, bad);
    EXPECT_EQ(https_location(req, 443), "") << bad;
  }
}

}  // namespace
}  // namespace villager::proxy
