#pragma once
// The access log: one line per request, "ts info send request method=GET path=/x status=200 duration_ms=3".
// It records the path without its query and never bodies, tokens, keys or IPs (the log-secrets fault adds
// the query string and every header, to give the smoke suite something to catch).

#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>

#include "base/error.h"
#include "service.h"

namespace send_server {

class AccessLog {
 public:
  AccessLog() = default;
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  // Appends to `path`, or writes to stderr when it is empty.
  villager::Status open(const std::filesystem::path& path, bool log_secrets);
  void record(const Request& req, unsigned status, double duration_ms);

 private:
  std::mutex mu_;
  std::FILE* file_ = nullptr;  // Guarded by mu_. Line-buffered, so a crash loses no finished line.
  bool owned_ = false;
  bool log_secrets_ = false;
};

}  // namespace send_server
