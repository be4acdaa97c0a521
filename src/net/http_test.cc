#include "net/http.h"

#include <gtest/gtest.h>

#include "testutil/nginx_server.h"

namespace villager::net {

namespace {

std::unique_ptr<NginxServer> start_nginx() {
  auto s = NginxServer::start(R"(
    location = /hello { add_header X-Multi one; add_header X-Multi two; return 200 "hi\n"; }
    location = /echo { return 201 "$request_method $http_x_probe $content_length\n"; }
    location = /host { return 200 "$host\n"; }
    location = /missing { return 404; }
    location = /fail { return 503 "down\n"; }
  )");
  if (!s) ADD_FAILURE() << s.error().message;
  return s ? std::move(*s) : nullptr;
}

HttpRequest get(const std::string& url) {
  HttpRequest r;
  r.url = url;
  return r;
}

}  // namespace

TEST(Http, GetReturnsStatusHeadersBodyAndDuration) {
  auto nginx = start_nginx();
  ASSERT_TRUE(nginx);
  HttpClient client;
  auto r = client.send(get(nginx->url() + "/hello"));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hi\n");
  EXPECT_EQ(r->headers.get("x-multi"), "one");
  EXPECT_EQ(r->headers.get_all("X-MULTI"), (std::vector<std::string>{"one", "two"}));
  EXPECT_TRUE(r->headers.contains("Server"));
  EXPECT_FALSE(r->headers.contains("X-Absent"));
  EXPECT_GT(r->duration.count(), 0);
}

TEST(Http, SendsMethodHeadersAndBody) {
  auto nginx = start_nginx();
  ASSERT_TRUE(nginx);
  HttpClient client;
  HttpRequest req = get(nginx->url() + "/echo");
  req.method = "POST";
  req.headers = {{"X-Probe", "p1"}};
  req.body = "12345";
  auto r = client.send(req);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(r->body, "POST p1 5\n");
  req.method = "OPTIONS";
  req.body.clear();
  r = client.send(req);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body, "OPTIONS p1 \n");
}

TEST(Http, ErrorStatusesAreResponses) {
  auto nginx = start_nginx();
  ASSERT_TRUE(nginx);
  HttpClient client;
  auto a = client.send(get(nginx->url() + "/missing"));
  auto b = client.send(get(nginx->url() + "/fail"));
  ASSERT_TRUE(a.has_value() && b.has_value());
  EXPECT_EQ(a->status, 404);
  EXPECT_EQ(b->status, 503);
}

TEST(Http, ConnectToKeepsTheHostName) {
  auto nginx = start_nginx();
  ASSERT_TRUE(nginx);
  HttpRequest req = get("http://send.example/host");
  req.connect_to = "127.0.0.1:" + std::to_string(nginx->port());
  auto r = http_send(req);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->body, "send.example\n");
}

TEST(Http, RefusedConnectionNamesTheRequestLine) {
  auto port = free_loopback_port();
  ASSERT_TRUE(port.has_value());
  std::string url = "http://127.0.0.1:" + std::to_string(*port) + "/info/health";
  auto r = http_send(get(url));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Code::kUnavailable);
  EXPECT_EQ(r.error().message, "GET " + url + ": connection refused");
}

TEST(Http, BadUrlIsAnError) {
  auto r = http_send(get("nope"));
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("GET nope: bad URL"), std::string::npos);
}

}  // namespace villager::net
