#pragma once
// The HTTP application: routes one parsed request to the user or admin API, the static frontend, CORS and
// the request-level faults (no-health, errors:P, open-admin, cors-any, missing-asset, frontend-*).
// handle() never throws and is safe to call from several I/O threads at once.

#include <atomic>
#include <boost/beast/http.hpp>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "config.h"
#include "token_store.h"
#include "transfer_store.h"

namespace send_server {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

class Service {
 public:
  // Loads the static frontend into memory; fails when the user frontend is missing.
  static villager::Result<std::unique_ptr<Service>> create(const Config& config);

  // `peer_ip` is the TCP peer; the client IP is the first X-Forwarded-For entry when present.
  Response handle(const Request& req, std::string_view peer_ip);

 private:
  struct Asset {
    std::string body;
    std::string content_type;
  };

  explicit Service(const Config& config);
  villager::Status load_static();

  Response route_user(const Request& req, std::string_view path, std::string_view client_ip);
  Response route_admin(const Request& req, std::string_view path);
  Response serve_static(const Request& req, std::string_view path);
  // The redirect-* faults: the redirect `path` answers, if one is switched on for it.
  std::optional<Response> redirect_fault(std::string_view path) const;
  Response health();
  std::string openapi() const;  // openapi.json: info.version and the user API's paths
  std::optional<Response> check_access_token(const Request& req);
  std::optional<Response> check_api_key(const Request& req);
  bool inject_error();  // errors:P: deterministic, every 1/P-th API request fails
  bool origin_allowed(std::string_view origin) const;
  Response preflight(const Request& req, std::string_view origin);
  void add_cors(Response& res, std::string_view origin) const;
  static Response json(http::status status, const std::string& body);

  const Config& config_;
  TransferStore transfers_;
  TokenStore tokens_;
  std::map<std::string, Asset> assets_;  // path relative to the static dir -> file; read-only after create()
  std::atomic<uint64_t> api_requests_{0};
};

// "a/b" -> "text/css" etc., by extension.
std::string content_type_for(std::string_view path);

}  // namespace send_server
