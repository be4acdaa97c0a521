#include "load/url.h"

#include <gtest/gtest.h>

namespace villager::load {
namespace {

TEST(Url, ParsesHostPortAndTarget) {
  auto u = parse_url("http://127.0.0.1:8080/info/health?x=1#frag");
  ASSERT_TRUE(u.has_value()) << u.error().message;
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->target, "/info/health?x=1");
  EXPECT_EQ(u->authority(), "127.0.0.1:8080");
  EXPECT_EQ(u->to_string(), "http://127.0.0.1:8080/info/health?x=1");
}

TEST(Url, DefaultsPortAndPath) {
  auto u = parse_url("HTTP://example.test");
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->port, 80);
  EXPECT_EQ(u->target, "/");
  EXPECT_EQ(u->authority(), "example.test");
  auto q = parse_url("http://h?a=b");
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->target, "/?a=b");
}

TEST(Url, Ipv6Literal) {
  auto u = parse_url("http://[::1]:9000/x");
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 9000);
  EXPECT_EQ(u->authority(), "[::1]:9000");
}

TEST(Url, RejectsWhatItCannotLoad) {
  for (const char* bad : {"https://x/", "ftp://x/", "127.0.0.1:80/", "http://:80/", "http://x:0/",
                          "http://x:70000/", "http://x:ab/", "http://[::1/", "http://u@x/", "http://x:/"}) {
    auto u = parse_url(bad);
    EXPECT_FALSE(u.has_value()) << bad;
    if (!u.has_value()) {
      EXPECT_EQ(u.error().code, Code::kInvalidArgument);
    }
  }
}

}  // namespace
}  // namespace villager::load
