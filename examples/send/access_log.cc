#include "access_log.h"

#include <cerrno>
#include <cstring>

#include "base/log.h"

namespace send_server {

AccessLog::~AccessLog() {
  if (owned_ && file_) std::fclose(file_);
}

villager::Status AccessLog::open(const std::filesystem::path& path, bool log_secrets) {
  log_secrets_ = log_secrets;
  if (path.empty()) {
    file_ = stderr;
    return villager::Ok();
  }
  if (path.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
  }
  file_ = std::fopen(path.c_str(), "a");
  if (!file_) return villager::Internal("opening access log " + path.string() + ": " + std::strerror(errno));
  owned_ = true;
  std::setvbuf(file_, nullptr, _IOLBF, 0);
  return villager::Ok();
}

void AccessLog::record(const Request& req, unsigned status, double duration_ms) {
  std::string_view target = req.target();
  auto q = target.find('?');
  std::string path(target.substr(0, q));
  char duration[32];
  std::snprintf(duration, sizeof duration, "%.1f", duration_ms);
  std::string line;
  if (!log_secrets_) {
    line = villager::format_log_line(villager::LogLevel::kInfo, "send", "request",
                                     {{"method", std::string(req.method_string())},
                                      {"path", path},
                                      {"status", std::to_string(status)},
                                      {"duration_ms", duration}});
  } else {
    std::string headers;
    for (const auto& f : req) {
      if (!headers.empty()) headers += "; ";
      headers += std::string(f.name_string()) + ": " + std::string(f.value());
    }
    std::string query = q == std::string_view::npos ? "" : std::string(target.substr(q + 1));
    line = villager::format_log_line(villager::LogLevel::kInfo, "send", "request",
                                     {{"method", std::string(req.method_string())},
                                      {"path", path},
                                      {"status", std::to_string(status)},
                                      {"duration_ms", duration},
                                      {"query", query},
                                      {"headers", headers}});
  }
  line.push_back('\n');
  std::lock_guard lock(mu_);
  std::fwrite(line.data(), 1, line.size(), file_);
  std::fflush(file_);
}

}  // namespace send_server
