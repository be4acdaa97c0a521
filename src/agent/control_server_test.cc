#include "agent/control_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <future>
#include <mutex>
#include <string>

namespace villager::agent {
namespace {

// A plain client socket: the tests speak HTTP by hand so that they can hold connections open.
int connect_to(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

void send_text(int fd, const std::string& text) {
  ASSERT_EQ(::send(fd, text.data(), text.size(), MSG_NOSIGNAL), static_cast<ssize_t>(text.size()));
}

// Everything the server sends until it closes the connection.
std::string read_to_close(int fd) {
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) out.append(buf, n);
  return out;
}

std::string get(const std::string& path) {
  return "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
}

TEST(ControlServer, RoutesCaptureSegmentsAndNameWhatIsMissing) {
  ControlServer server;
  server.route("GET", "/v1/env/{env}/status", [](const ControlRequest& r) {
    return ControlResponse{200, "{\"env\":\"" + r.params.at(0) + "\",\"q\":\"" + r.query + "\"}"};
  });
  ASSERT_TRUE(server.start("127.0.0.1", 0).ok());

  int fd = connect_to(server.port());
  send_text(fd, get("/v1/env/prod/status?x=1"));
  std::string answer = read_to_close(fd);
  ::close(fd);
  EXPECT_NE(answer.find("200 OK"), std::string::npos) << answer;
  EXPECT_NE(answer.find("{\"env\":\"prod\",\"q\":\"x=1\"}"), std::string::npos) << answer;

  fd = connect_to(server.port());
  send_text(fd,
            "POST /v1/env/prod/status HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  answer = read_to_close(fd);
  ::close(fd);
  EXPECT_NE(answer.find("405"), std::string::npos) << answer;
  EXPECT_NE(answer.find("method POST not allowed on /v1/env/prod/status"), std::string::npos) << answer;

  fd = connect_to(server.port());
  send_text(fd, get("/v1/nothing"));
  answer = read_to_close(fd);
  ::close(fd);
  EXPECT_NE(answer.find("404"), std::string::npos) << answer;
  EXPECT_NE(answer.find("no such endpoint: GET /v1/nothing"), std::string::npos) << answer;
}

TEST(ControlServer, ConnectionsOverTheCapAreAnswered503AndTheRestAreServed) {
  ControlServer server(2);
  server.route("GET", "/ping", [](const ControlRequest&) { return ControlResponse{200, "{\"pong\":1}"}; });
  ASSERT_TRUE(server.start("127.0.0.1", 0).ok());

  // Two idle keep-alive connections fill the cap; a request on each proves they were admitted.
  int held[2];
  for (int& fd : held) {
    fd = connect_to(server.port());
    send_text(fd, "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n");
    char buf[512];
    ASSERT_GT(::recv(fd, buf, sizeof buf, 0), 0);
  }
  int third = connect_to(server.port());
  std::string refused = read_to_close(third);
  ::close(third);
  EXPECT_NE(refused.find("503 Service Unavailable"), std::string::npos) << refused;
  EXPECT_NE(refused.find("Retry-After: 1"), std::string::npos) << refused;
  EXPECT_NE(refused.find("too many connections"), std::string::npos) << refused;

  // Closing one frees its place (the server reaps it when the next connection arrives).
  ::close(held[0]);
  std::string answer;
  for (int attempt = 0; attempt < 200 && answer.find("200 OK") == std::string::npos; ++attempt) {
    int fd = connect_to(server.port());
    send_text(fd, get("/ping"));
    answer = read_to_close(fd);
    ::close(fd);
    if (answer.find("200 OK") == std::string::npos) usleep(10'000);
  }
  EXPECT_NE(answer.find("{\"pong\":1}"), std::string::npos) << answer;
  ::close(held[1]);
}

TEST(ControlServer, StopEndsIdleConnectionsAndLetsARequestInProgressFinish) {
  ControlServer server;
  std::mutex mu;
  std::condition_variable cv;
  bool entered = false, release = false;
  server.route("POST", "/slow", [&](const ControlRequest&) {
    std::unique_lock lock(mu);
    entered = true;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
    return ControlResponse{200, "{\"done\":true}"};
  });
  server.route("GET", "/ping", [](const ControlRequest&) { return ControlResponse{}; });
  ASSERT_TRUE(server.start("127.0.0.1", 0).ok());

  int idle = connect_to(server.port());
  send_text(idle, "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n");
  char buf[512];
  ASSERT_GT(::recv(idle, buf, sizeof buf, 0), 0);

  int busy = connect_to(server.port());
  send_text(busy, "POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return entered; });
  }
  auto stopped = std::async(std::launch::async, [&] { server.stop(); });
  // The idle connection is closed by stop() without waiting for its read deadline.
  EXPECT_EQ(read_to_close(idle), "");
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  stopped.get();
  std::string answer = read_to_close(busy);
  EXPECT_NE(answer.find("{\"done\":true}"), std::string::npos) << answer;
  ::close(idle);
  ::close(busy);
  EXPECT_EQ(connect_to(server.port()), -1);
}

TEST(ControlServer, AClientThatStopsMidRequestIsLetGoAtTheReadDeadline) {
  ControlServer server(ControlServer::kMaxConnections, /*read_timeout_seconds=*/1);
  server.route("GET", "/ping", [](const ControlRequest&) { return ControlResponse{}; });
  ASSERT_TRUE(server.start("127.0.0.1", 0).ok());
  int fd = connect_to(server.port());
  send_text(fd, "GET /ping HTTP/1.1\r\nHost: x\r\n");  // the header never ends
  EXPECT_EQ(read_to_close(fd), "");                    // closed by the server, not answered
  ::close(fd);
}

TEST(ControlServer, AnAddressThatIsNotALiteralIsNamed) {
  ControlServer server;
  Status s = server.start("localhost", 0);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("control API address localhost:0: not an IP address literal"),
            std::string::npos)
      << s.error().message;
}

}  // namespace
}  // namespace villager::agent
