#pragma once
// The HTTP client every module uses to talk HTTP (smoke checks, probes, alert channels, notifications,
// deploy): one request in, one complete response out, over libcurl. A transport failure (refused,
// timeout, DNS, TLS) is an Error whose message starts with the request line, secrets masked: "GET
// http://127.0.0.1:8080/info/health: connection refused". Any HTTP status, 5xx included, is a response,
// not an error. The AWS client keeps its own curl handle: it signs each request (SigV4) and streams
// large S3 bodies from files, which this whole-body client does not do.

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.h"

namespace villager::net {

// Response headers in arrival order; lookups ignore case. A header sent twice appears twice.
class Headers {
 public:
  void add(std::string name, std::string value) { items_.emplace_back(std::move(name), std::move(value)); }
  // The first value of `name`, if present.
  std::optional<std::string> get(std::string_view name) const;
  std::vector<std::string> get_all(std::string_view name) const;
  bool contains(std::string_view name) const { return get(name).has_value(); }
  const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

inline constexpr std::chrono::milliseconds kDefaultRequestTimeout{10000};
inline constexpr std::chrono::milliseconds kDefaultConnectTimeout{5000};
// A response body above this size is a failure, not an allocation: smoke tests fetch pages and
// small JSON, never bulk data.
inline constexpr size_t kMaxResponseBytes = 64 * 1024 * 1024;

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds timeout = kDefaultRequestTimeout;  // whole request, connect included
  // "host:port": connect there instead of the URL's host, keeping the URL's Host header and TLS name
  // (CURLOPT_CONNECT_TO), so a candidate slot can be reached as its public name.
  std::string connect_to;
  // Bodies above this are a failure ("response body exceeds N bytes") unless `truncate_body`, which
  // keeps the first max_body bytes and reads the rest away (a probe or a webhook's answer is only shown).
  size_t max_body = kMaxResponseBytes;
  bool truncate_body = false;
  // Ignore any proxy named in the environment (probes and alerts must reach the address itself).
  bool direct = false;
  // false: an https:// certificate is not checked (the agent probing its own TLS listener on loopback,
  // where the question is whether it answers, and its certificate names the public host, not 127.0.0.1).
  bool verify_tls = true;
  // A PEM file of the certificate authorities an https:// certificate is checked against
  // (CURLOPT_CAINFO); empty: the system's store. A certificate that fails the check (or a CA file that
  // cannot be read) is FailedPrecondition, not Unavailable: retrying does not change it.
  std::string ca_file;
  // When set and true, the transfer stops at its next progress tick with Timeout("gave up: the process
  // is exiting"), so a shutting-down process never waits out a slow peer.
  const std::atomic<bool>* abort = nullptr;

  // "GET http://127.0.0.1:8080/info/health" (query included, as the server sees it).
  std::string request_line() const { return method + " " + url; }
};

struct HttpResponse {
  int status = 0;
  Headers headers;
  std::string body;
  std::chrono::microseconds duration{0};  // from the start of the request to the last byte
};

// A client keeps its connections alive between requests to the same host. Not thread-safe: use one
// client per thread.
class HttpClient {
 public:
  HttpClient();
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  Result<HttpResponse> send(const HttpRequest& request);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One request on a fresh client (no connection reuse).
Result<HttpResponse> http_send(const HttpRequest& request);

}  // namespace villager::net
