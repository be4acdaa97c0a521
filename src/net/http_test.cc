#include "net/http.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "base/redact.h"
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
    location = /big { return 200 "0123456789abcdefghij"; }
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

TEST(Http, BodyAboveTheCapFailsOrIsCut) {
  auto nginx = start_nginx();
  ASSERT_TRUE(nginx);
  HttpRequest req = get(nginx->url() + "/big");
  req.max_body = 10;
  auto r = http_send(req);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, "GET " + req.url + ": response body exceeds 10 bytes");
  req.truncate_body = true;
  r = http_send(req);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "0123456789");
}

TEST(Http, AbortStopsTheTransfer) {
  auto nginx = start_nginx();
  ASSERT_TRUE(nginx);
  std::atomic<bool> abort{true};
  HttpRequest req = get(nginx->url() + "/hello");
  req.abort = &abort;
  auto r = http_send(req);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Code::kTimeout);
  EXPECT_EQ(r.error().message, "GET " + req.url + ": gave up: the process is exiting");
  abort = false;
  r = http_send(req);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->body, "hi\n");
}

TEST(Http, DirectIgnoresTheEnvironmentsProxy) {
  auto nginx = start_nginx();
  ASSERT_TRUE(nginx);
  auto dead = free_loopback_port();
  ASSERT_TRUE(dead.has_value());
  std::string proxy = "http://127.0.0.1:" + std::to_string(*dead);
  ::setenv("http_proxy", proxy.c_str(), 1);
  HttpRequest req = get("http://send.example/host");
  req.connect_to = "127.0.0.1:" + std::to_string(nginx->port());
  auto via_proxy = http_send(req);
  req.direct = true;
  auto direct = http_send(req);
  ::unsetenv("http_proxy");
  EXPECT_FALSE(via_proxy.has_value());
  ASSERT_TRUE(direct.has_value()) << direct.error().message;
  EXPECT_EQ(direct->body, "send.example\n");
}

TEST(Http, ErrorsMaskRegisteredSecrets) {
  auto port = free_loopback_port();
  ASSERT_TRUE(port.has_value());
  register_secret("tok-5ecret-value");
  auto r = http_send(get("http://127.0.0.1:" + std::to_string(*port) + "/hook?key=tok-5ecret-value"));
  clear_secrets_for_test();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message.find("tok-5ecret-value"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("key=***"), std::string::npos) << r.error().message;
}

}  // namespace villager::net
