#include "testutil/nginx_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "base/fs.h"
#include "base/subprocess.h"

namespace villager {

namespace {

constexpr const char* kNginx = "/usr/sbin/nginx";
constexpr auto kStartDeadline = std::chrono::seconds(10);
constexpr auto kStopGrace = std::chrono::seconds(5);

bool can_connect(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

Result<uint16_t> free_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return Internal("socket failed");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd);
    return Internal("binding a free loopback port failed");
  }
  ::close(fd);
  return static_cast<uint16_t>(ntohs(a.sin_port));
}

Result<std::unique_ptr<NginxServer>> NginxServer::start(const std::string& server_directives) {
  std::unique_ptr<NginxServer> s(new NginxServer());
  auto dir = make_temp_dir("villager-nginx-");
  if (!dir) return dir.error();
  s->dir_ = *dir;
  auto port = free_loopback_port();
  if (!port) return port.error();
  s->port_ = *port;
  const std::string d = s->dir_.string();
  // As root, nginx would drop its workers to "nobody", who cannot read a 0700 temp folder.
  std::string user = ::geteuid() == 0 ? "user root root;\n" : "";
  std::string conf = user + "worker_processes 1;\nerror_log " + d + "/error.log;\npid " + d +
                     "/nginx.pid;\nevents { worker_connections 64; }\nhttp {\n"
                     "  include /etc/nginx/mime.types;\n  access_log " +
                     d +
                     "/access.log;\n"
                     "  client_body_temp_path " +
                     d + "/body;\n  proxy_temp_path " + d +
                     "/proxy;\n"
                     "  fastcgi_temp_path " +
                     d + "/fastcgi;\n  uwsgi_temp_path " + d +
                     "/uwsgi;\n"
                     "  scgi_temp_path " +
                     d +
                     "/scgi;\n"
                     "  server {\n    listen 127.0.0.1:" +
                     std::to_string(s->port_) + ";\n    " + server_directives + "\n  }\n}\n";
  VILLAGER_RETURN_IF_ERROR(write_file_atomic(s->dir_ / "nginx.conf", conf));
  SpawnOptions opts;
  opts.stderr_path = d + "/stderr.log";
  opts.new_session = false;
  auto pid = spawn_process({kNginx, "-p", d, "-c", d + "/nginx.conf", "-g", "daemon off;"}, opts);
  if (!pid) return pid.error().context("starting nginx");
  s->pid_ = *pid;
  auto until = std::chrono::steady_clock::now() + kStartDeadline;
  while (!can_connect(s->port_)) {
    if (reap_if_exited(s->pid_) || std::chrono::steady_clock::now() > until) {
      auto err = read_file(s->dir_ / "stderr.log");
      s->pid_ = -1;
      return Unavailable("nginx did not start: " + (err ? *err : std::string("(no stderr)")));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return s;
}

NginxServer::~NginxServer() {
  if (pid_ > 0) {
    ::kill(pid_, SIGQUIT);
    auto until = std::chrono::steady_clock::now() + kStopGrace;
    while (!reap_if_exited(pid_) && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (!reap_if_exited(pid_)) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

}  // namespace villager
