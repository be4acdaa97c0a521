#pragma once
// A small blocking HTTP client for the agent's control API (loopback, JSON bodies, bearer token).

#include <chrono>
#include <string>

#include "base/error.h"
#include "config/config.h"

namespace villager::targets {

struct ControlReply {
  int status = 0;
  std::string body;
};

class ControlClient {
 public:
  ControlClient(config::HostPort address, std::string token)
      : address_(std::move(address)), token_(std::move(token)) {}
  // A transport failure is Unavailable naming the agent's address; any HTTP status is a reply.
  Result<ControlReply> call(const std::string& method, const std::string& path, const std::string& body = "",
                            std::chrono::milliseconds timeout = kDefaultTimeout);
  // call() and turn a non-2xx reply into an error carrying the agent's message.
  Result<std::string> call_ok(const std::string& method, const std::string& path,
                              const std::string& body = "",
                              std::chrono::milliseconds timeout = kDefaultTimeout);

  static constexpr std::chrono::milliseconds kDefaultTimeout{10000};

 private:
  config::HostPort address_;
  std::string token_;
};

}  // namespace villager::targets
