#pragma once
// Test-only helpers (header only, not part of the library): real servers started by a test on loopback
// and always stopped, plus tiny HTTP helpers.

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "base/subprocess.h"
#include "net/http.h"

namespace villager::testing {

// GET with a 2 s timeout.
inline Result<net::HttpResponse> http_get(const std::string& url) {
  net::HttpRequest req;
  req.url = url;
  req.timeout = std::chrono::seconds(2);
  req.direct = true;
  return net::http_send(req);
}

// A process in its own group, killed with the whole group when the object dies (also on test failure).
class Child {
 public:
  Child() = default;
  explicit Child(pid_t pid) : pid_(pid) {}
  Child(Child&& o) noexcept : pid_(o.pid_) { o.pid_ = 0; }
  ~Child() { stop(); }
  void stop() {
    if (pid_ <= 0) return;
    ::kill(-pid_, SIGKILL);
    int st = 0;
    ::waitpid(pid_, &st, 0);
    pid_ = 0;
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = 0;
};

// A port that was free a moment ago (for servers that cannot report the port they bound).
inline int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

inline Child spawn(const std::vector<std::string>& argv, const std::string& log) {
  SpawnOptions o;
  o.stdout_path = log;
  o.stderr_path = log;
  auto pid = spawn_process(argv, o);
  EXPECT_TRUE(pid) << (pid ? "" : pid.error().message);
  return pid ? Child(*pid) : Child();
}

// Polls `cond` every 100 ms until it holds or `limit` passes (for servers starting up: not a timing
// assertion, the limit is generous).
inline bool eventually(const std::function<bool()>& cond,
                       std::chrono::seconds limit = std::chrono::seconds(60)) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return cond();
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// A python3 HTTP server: POSTs are appended (one JSON per line) to `dir`/posts.jsonl and answered with
// the status codes in `dir`/statuses (one per line, consumed in order; 200 when empty); GET /metrics
// serves `dir`/metrics as Prometheus text. It writes its port to `dir`/port.
inline constexpr const char* kReceiverPy = R"py(
import http.server, os, sys
d = sys.argv[1]
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get('Content-Length', 0)))
        code = 200
        p = os.path.join(d, 'statuses')
        if os.path.exists(p):
            lines = open(p).read().split()
            if lines:
                code = int(lines[0]); open(p, 'w').write('\n'.join(lines[1:]))
        if code == 200:
            with open(os.path.join(d, 'posts.jsonl'), 'ab') as f: f.write(body + b'\n')
        self.send_response(code); self.send_header('Content-Length', '0'); self.end_headers()
    def do_GET(self):
        body = open(os.path.join(d, 'metrics'), 'rb').read()
        self.send_response(200)
        self.send_header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
        self.send_header('Content-Length', str(len(body))); self.end_headers(); self.wfile.write(body)
s = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)
open(os.path.join(d, 'port.tmp'), 'w').write(str(s.server_address[1]))
os.rename(os.path.join(d, 'port.tmp'), os.path.join(d, 'port'))
s.serve_forever()
)py";

// Starts the receiver; returns its port through `port` (0 on failure).
inline Child start_receiver(const std::string& dir, int* port) {
  std::ofstream(dir + "/receiver.py") << kReceiverPy;
  Child c = spawn({"python3", dir + "/receiver.py", dir}, dir + "/receiver.log");
  *port = 0;
  if (eventually([&] { return !read_file(dir + "/port").empty(); }, std::chrono::seconds(30)))
    *port = std::stoi(read_file(dir + "/port"));
  return c;
}

}  // namespace villager::testing
