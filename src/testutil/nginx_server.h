#pragma once
// NginxServer: a real nginx (the Debian package) started by a test on 127.0.0.1 and a free port, with
// its prefix, logs and pid file in a temp folder; stopped (SIGQUIT, then SIGKILL) when the object dies.
// The caller gives the directives inside `server { ... }`; `listen` is added here.

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "base/error.h"

namespace villager {

class NginxServer {
 public:
  // Starts nginx serving `server_directives` (e.g. "root /tmp/x; location /a { return 401; }") and
  // returns once it accepts connections.
  static Result<std::unique_ptr<NginxServer>> start(const std::string& server_directives);
  ~NginxServer();
  NginxServer(const NginxServer&) = delete;
  NginxServer& operator=(const NginxServer&) = delete;

  uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  NginxServer() = default;
  std::filesystem::path dir_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

// A TCP port on 127.0.0.1 that was free a moment ago (bind to 0, read, close).
Result<uint16_t> free_loopback_port();

}  // namespace villager
