#pragma once
// A small blocking HTTP client over libcurl for probes and alert channels. Every call has a total
// timeout; nothing here throws. Not a general client: bodies are held in memory (capped).

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "base/error.h"

namespace villager::monitor {

struct HttpResponse {
  int status = 0;
  std::string body;  // at most kMaxBody bytes
  uint64_t latency_us = 0;
};

inline constexpr size_t kMaxHttpBody = 1 << 20;

// `method` "GET" or "POST". A connection failure or timeout is Unavailable/Timeout naming the URL; any
// HTTP status is a value.
Result<HttpResponse> http_request(const std::string& method, const std::string& url, const std::string& body,
                                  const std::vector<std::pair<std::string, std::string>>& headers,
                                  std::chrono::milliseconds timeout);

}  // namespace villager::monitor
