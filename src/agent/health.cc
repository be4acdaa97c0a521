#include "net/health.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "agent/supervisor.h"

namespace villager::agent {

namespace {
// Waits for `events` on fd until the deadline; false on timeout.
bool wait_fd(int fd, short events, std::chrono::steady_clock::time_point deadline) {
  auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) return false;
  pollfd p{fd, events, 0};
  int r;
  while ((r = ::poll(&p, 1, static_cast<int>(left.count()))) < 0 && errno == EINTR) {
  }
  return r > 0;
}
}  // namespace

// A deliberately small HTTP/1.0 GET: health checks must not depend on the proxy or on libraries that
// could themselves be what is broken. Loopback only.
HealthResult check_health(int port, const std::string& path, const std::string& expect_body,
                          std::chrono::milliseconds timeout, const std::string& header) {
  HealthResult res;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    res.detail = std::string("socket: ") + std::strerror(errno);
    return res;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  if (rc < 0 && errno != EINPROGRESS) {
    res.detail = std::string("connect: ") + std::strerror(errno);
    ::close(fd);
    return res;
  }
  if (rc < 0) {
    if (!wait_fd(fd, POLLOUT, deadline)) {
      res.detail = "connect timed out";
      ::close(fd);
      return res;
    }
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) {
      res.detail = std::string("connect: ") + std::strerror(err);
      ::close(fd);
      return res;
    }
  }
  std::string req = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\nUser-Agent: villager-health\r\n";
  if (!header.empty()) req += header + "\r\n";
  req += "\r\n";
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
    res.detail = "send failed";
    ::close(fd);
    return res;
  }
  std::string resp;
  char buf[4096];
  constexpr size_t kMaxHealthResponse = 64 * 1024;
  while (resp.size() < kMaxHealthResponse) {
    if (!wait_fd(fd, POLLIN, deadline)) {
      res.detail = "timed out after " + std::to_string(timeout.count()) + "ms";
      ::close(fd);
      return res;
    }
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) break;
    resp.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  if (resp.size() < 12 || resp.compare(0, 5, "HTTP/") != 0) {
    res.detail = resp.empty() ? "empty response" : "not an HTTP response";
    return res;
  }
  res.status = std::atoi(resp.c_str() + resp.find(' ') + 1);
  auto body_at = resp.find("\r\n\r\n");
  std::string body = body_at == std::string::npos ? "" : resp.substr(body_at + 4);
  res.detail = net::health_failure(res.status, body, expect_body);
  if (!res.detail.empty()) return res;
  res.ok = true;
  res.detail = "200";
  return res;
}

}  // namespace villager::agent
