#include "net/url.h"

#include <gtest/gtest.h>

namespace villager::net {

TEST(Url, ParsesHostPortAndTarget) {
  auto u = parse_url("http://127.0.0.1:8080/info/health?x=1#frag");
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->scheme, "http");
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->target, "/info/health?x=1");
  EXPECT_EQ(u->origin(), "http://127.0.0.1:8080");
}

TEST(Url, DefaultPortsAndIpv6) {
  auto u = parse_url("HTTPS://Send.Example");
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->target, "/");
  EXPECT_EQ(u->origin(), "https://send.example");
  auto v = parse_url("http://[::1]:9000/a");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->host, "::1");
  EXPECT_EQ(v->host_port(), "[::1]:9000");
  EXPECT_EQ(v->origin(), "http://[::1]:9000");
}

TEST(Url, RejectsBadInput) {
  EXPECT_FALSE(parse_url("ftp://x/").has_value());
  EXPECT_FALSE(parse_url("127.0.0.1:80").has_value());
  EXPECT_FALSE(parse_url("http://:80/").has_value());
  EXPECT_FALSE(parse_url("http://h:99999/").has_value());
  EXPECT_FALSE(parse_url("http://user:pw@h/").has_value());
  auto e = parse_url("http://h:x/");
  ASSERT_FALSE(e.has_value());
  EXPECT_NE(e.error().message.find("bad port 'x'"), std::string::npos);
}

TEST(Url, JoinUsesOneSlash) {
  EXPECT_EQ(join_url("http://h:1/", "/info/health"), "http://h:1/info/health");
  EXPECT_EQ(join_url("http://h:1", "info"), "http://h:1/info");
  EXPECT_EQ(join_url("http://h:1/p/", ""), "http://h:1/p/");
  EXPECT_EQ(join_url("http://h:1", "https://x/y"), "https://x/y");
}

TEST(Url, ResolvesPageReferences) {
  auto page = *parse_url("http://h:1/en-gb/download/?t=1");
  EXPECT_EQ(resolve_reference(page, "/assets/app.css"), "http://h:1/assets/app.css");
  EXPECT_EQ(resolve_reference(page, "app.js"), "http://h:1/en-gb/download/app.js");
  EXPECT_EQ(resolve_reference(page, "//cdn.example/x.js"), "http://cdn.example/x.js");
  EXPECT_EQ(resolve_reference(page, "https://cdn.example/x.js"), "https://cdn.example/x.js");
  EXPECT_EQ(resolve_reference(page, "data:image/png;base64,AAAA"), "");
  EXPECT_EQ(resolve_reference(page, "#top"), "");
  EXPECT_EQ(resolve_reference(page, "img/a.png#x"), "http://h:1/en-gb/download/img/a.png");
}

TEST(Url, PercentEncodesAllButUnreserved) {
  EXPECT_EQ(percent_encode("a b/c~"), "a%20b%2Fc~");
  EXPECT_EQ(percent_encode("\xff"), "%FF");
  EXPECT_EQ(percent_encode_lower("\xff"), "%ff");
}

}  // namespace villager::net

namespace villager::net {
namespace {

TEST(UrlOrigin, KeepsSchemeHostAndPortOnly) {
  EXPECT_EQ(url_origin("https://hooks.slack.com/services/T0/SECRET"), "https://hooks.slack.com");
  EXPECT_EQ(url_origin("http://user:pw@127.0.0.1:9093/api"), "http://127.0.0.1:9093");
  EXPECT_EQ(url_origin("http://[::1]:8080"), "http://[::1]:8080");
  EXPECT_EQ(url_origin("not a url/with/path"), "not a url");
}

}  // namespace
}  // namespace villager::net
