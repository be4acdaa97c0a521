#include "service.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "base/hash.h"
#include "base/log.h"
#include "base/strings.h"

namespace send_server {

using villager::Result;
using villager::Status;

namespace {

constexpr std::string_view kAccessTokenHeader = "x-sgraph-access-token";
constexpr std::string_view kAllowedMethods = "GET, POST, HEAD, OPTIONS";
constexpr std::string_view kPreflightMaxAge = "600";
// Where SGraph Send v0.3.5 redirects `/` (fault redirect-root), served as the landing page.
constexpr std::string_view kVersionedRoot = "/send/v0/v0.1/v0.1.4/index.html";
constexpr std::string_view kOffsiteRoot = "https://evil.example/";
// The literal in upload.js that the frontend-* faults replace; see static/assets/upload.js.
constexpr std::string_view kFrontendFaultsMarker = "const FRONTEND_FAULTS = {};";

std::string error_body(std::string_view message) {
  return nlohmann::json{{"data", nullptr}, {"error", nullptr}, {"message", message}, {"status", "error"}}
      .dump();
}

http::status status_for(const villager::Error& e) {
  switch (e.code) {
    case villager::Code::kNotFound:
      return http::status::not_found;
    case villager::Code::kInvalidArgument:
      return http::status::bad_request;
    case villager::Code::kConflict:
    case villager::Code::kFailedPrecondition:
      return http::status::conflict;
    default:
      return http::status::internal_server_error;
  }
}

// Splits "/api/transfers/upload/abc" after `prefix`: returns "abc", or nullopt when it does not match or
// the remainder holds another '/'.
std::optional<std::string_view> path_param(std::string_view path, std::string_view prefix) {
  if (!villager::starts_with(path, prefix)) return std::nullopt;
  std::string_view rest = path.substr(prefix.size());
  if (rest.empty() || rest.find('/') != std::string_view::npos) return std::nullopt;
  return rest;
}

std::string cookie_value(const Request& req, std::string_view name) {
  auto [first, last] = req.equal_range(http::field::cookie);
  for (auto field = first; field != last; ++field) {
    for (const std::string& part : villager::split(field->value(), ';')) {
      std::string_view kv = villager::trim(part);
      auto eq = kv.find('=');
      if (eq == std::string_view::npos) continue;
      if (villager::to_lower(villager::trim(kv.substr(0, eq))) == name)
        return std::string(villager::trim(kv.substr(eq + 1)));
    }
  }
  return "";
}

}  // namespace

std::string content_type_for(std::string_view path) {
  if (villager::ends_with(path, ".html")) return "text/html; charset=utf-8";
  if (villager::ends_with(path, ".css")) return "text/css; charset=utf-8";
  if (villager::ends_with(path, ".js")) return "text/javascript; charset=utf-8";
  if (villager::ends_with(path, ".json")) return "application/json";
  if (villager::ends_with(path, ".svg")) return "image/svg+xml";
  if (villager::ends_with(path, ".png")) return "image/png";
  if (villager::ends_with(path, ".ico")) return "image/x-icon";
  return "application/octet-stream";
}

Service::Service(const Config& config)
    : config_(config), transfers_(config.data_dir, config.faults.raw_ip), tokens_(config.data_dir) {}

Result<std::unique_ptr<Service>> Service::create(const Config& config) {
  std::unique_ptr<Service> s(new Service(config));
  if (config.mode == Mode::kUser) {
    auto st = s->load_static();
    if (!st) return st.error().context("loading frontend from " + config.static_dir.string());
  }
  return s;
}

Status Service::load_static() {
  auto files = villager::list_files(config_.static_dir);
  if (!files) return files.error();
  for (const std::string& rel : *files) {
    auto body = villager::read_file(config_.static_dir / rel);
    if (!body) return body.error();
    Asset a{std::move(*body), content_type_for(rel)};
    if (rel == "assets/upload.js") {
      auto pos = a.body.find(kFrontendFaultsMarker);
      if (pos == std::string::npos) return villager::Internal("assets/upload.js: fault marker not found");
      nlohmann::json f = {{"noEncrypt", config_.faults.frontend_no_encrypt},
                          {"leakKey", config_.faults.frontend_leak_key}};
      a.body.replace(pos, kFrontendFaultsMarker.size(), "const FRONTEND_FAULTS = " + f.dump() + ";");
    }
    // The frontend calls the API where this server serves it (SEND_ROUTES).
    if (config_.api_prefix != "/api" && villager::ends_with(rel, ".js")) {
      const std::string from = "\"/api/transfers/", to = "\"" + config_.api_prefix + "/transfers/";
      for (size_t pos = 0; (pos = a.body.find(from, pos)) != std::string::npos; pos += to.size())
        a.body.replace(pos, from.size(), to);
    }
    assets_.emplace(rel, std::move(a));
  }
  for (const char* page : {"index.html", "en-gb/index.html", "en-gb/download/index.html"}) {
    if (!assets_.count(page)) return villager::NotFound(std::string(page) + " is missing");
  }
  return villager::Ok();
}

Response Service::json(http::status status, const std::string& body) {
  Response res{status, 11};
  res.set(http::field::content_type, "application/json");
  res.body() = body;
  return res;
}

Response Service::handle(const Request& req, std::string_view peer_ip) {
  std::string_view target = req.target();
  std::string_view path = target.substr(0, target.find('?'));
  std::string origin(req[http::field::origin]);

  Response res;
  if (req.method() == http::verb::options && !origin.empty() &&
      req.find(http::field::access_control_request_method) != req.end()) {
    res = preflight(req, origin);
  } else {
    std::string client_ip(peer_ip);
    if (auto xff = req["x-forwarded-for"]; !xff.empty()) {
      auto first = villager::trim(xff.substr(0, xff.find(',')));
      if (!first.empty()) client_ip = std::string(first);
    }
    res = config_.mode == Mode::kUser ? route_user(req, path, client_ip) : route_admin(req, path);
    // The answer depends on Origin whenever CORS is configured, so caches must key on it.
    if (!origin.empty())
      add_cors(res, origin);
    else if (!config_.cors_origins.empty() || config_.faults.cors_any)
      res.set(http::field::vary, "Origin");
  }
  res.version(req.version());
  res.set("x-service-version", config_.version);
  res.set(http::field::server, "send-server");
  res.keep_alive(req.keep_alive());
  if (req.method() == http::verb::head) {
    size_t n = res.body().size();
    res.body().clear();
    res.content_length(n);
  } else {
    res.prepare_payload();
  }
  return res;
}

bool Service::origin_allowed(std::string_view origin) const {
  if (config_.faults.cors_any) return true;
  for (const auto& o : config_.cors_origins)
    if (o == origin) return true;
  return false;
}

void Service::add_cors(Response& res, std::string_view origin) const {
  res.set(http::field::vary, "Origin");
  if (!origin_allowed(origin)) return;
  res.set(http::field::access_control_allow_origin, origin);
  if (config_.faults.cors_any) res.set(http::field::access_control_allow_credentials, "true");
}

Response Service::preflight(const Request& req, std::string_view origin) {
  if (!origin_allowed(origin)) {
    Response res = json(http::status::bad_request, error_body("Disallowed CORS origin"));
    res.set(http::field::vary, "Origin");
    return res;
  }
  (void)req;
  Response res{http::status::no_content, 11};
  add_cors(res, origin);
  res.set(http::field::access_control_allow_methods, kAllowedMethods);
  std::string headers = "content-type, " + std::string(kAccessTokenHeader);
  if (!config_.api_key_name.empty()) headers += ", " + config_.api_key_name;
  res.set(http::field::access_control_allow_headers, headers);
  res.set(http::field::access_control_max_age, kPreflightMaxAge);
  return res;
}

Response Service::health() {
  if (config_.faults.no_health)
    return json(http::status::service_unavailable, error_body("unhealthy (fault no-health)"));
  nlohmann::ordered_json j = {{"status", "ok"},
                              {"version", config_.version},
                              {"mode", config_.mode == Mode::kUser ? "user" : "admin"}};
  return json(http::status::ok, j.dump());
}

bool Service::inject_error() {
  double p = config_.faults.error_rate;
  if (p <= 0) return false;
  uint64_t n = api_requests_.fetch_add(1) + 1;
  // Request n fails when it crosses the next multiple of 1/P: exactly round(n*P) of the first n fail.
  return std::floor(static_cast<double>(n) * p) > std::floor(static_cast<double>(n - 1) * p);
}

std::optional<Response> Service::check_access_token(const Request& req) {
  std::string_view given = req[kAccessTokenHeader];
  // No token configured means a misconfigured server: refuse writes, never fail open.
  if (config_.access_token.empty())
    return json(http::status::unauthorized,
                error_body("Server has no access token configured; writes are refused"));
  if (given.empty()) return json(http::status::unauthorized, error_body("Access token required"));
  if (!villager::constant_time_equal(given, config_.access_token))
    return json(http::status::unauthorized, error_body("Invalid access token"));
  return std::nullopt;
}

std::optional<Response> Service::check_api_key(const Request& req) {
  if (config_.faults.open_admin) return std::nullopt;
  if (config_.api_key_name.empty())
    return json(http::status::unauthorized, error_body("Server does not have API key name setup"));
  if (config_.api_key_value.empty())
    return json(http::status::unauthorized, error_body("Server does not have API key value setup"));
  std::string given(req[config_.api_key_name]);
  if (given.empty()) given = cookie_value(req, config_.api_key_name);
  if (given.empty())
    return json(http::status::unauthorized,
                error_body("Client API key is missing, you need to set it on a header or cookie"));
  if (!villager::constant_time_equal(given, config_.api_key_value))
    return json(http::status::unauthorized, error_body("Invalid API key value"));
  return std::nullopt;
}

Response Service::route_user(const Request& req, std::string_view path, std::string_view client_ip) {
  const bool get = req.method() == http::verb::get || req.method() == http::verb::head;
  const bool post = req.method() == http::verb::post;
  if (path == "/info/health") {
    if (!get) return json(http::status::method_not_allowed, error_body("method not allowed"));
    return health();
  }
  const std::string& api = config_.api_prefix;
  if (path == api + "/openapi.json") {
    if (!get) return json(http::status::method_not_allowed, error_body("method not allowed"));
    if (config_.faults.no_openapi) return json(http::status::not_found, error_body("not found"));
    return json(http::status::ok, openapi());
  }
  if (!villager::starts_with(path, api + "/transfers/")) {
    if (get) return serve_static(req, path);
    // As FastAPI answers: a path no route serves is 404 whatever the method (a POST to /api/... on
    // the v0.3 layout), a page is there for GET only.
    bool page = serve_static(req, path).result() == http::status::ok;
    return page ? json(http::status::method_not_allowed, error_body("method not allowed"))
                : json(http::status::not_found, error_body("not found"));
  }
  if (inject_error())
    return json(http::status::internal_server_error, error_body("internal error (fault errors)"));

  auto meta_response = [](const Result<TransferMeta>& m, http::status ok) {
    if (!m) return json(status_for(m.error()), error_body(m.error().message));
    return json(ok, meta_to_json(*m, /*for_disk=*/false));
  };

  if (path == api + "/transfers/create") {
    if (!post) return json(http::status::method_not_allowed, error_body("method not allowed"));
    if (auto denied = check_access_token(req)) return *denied;
    uint64_t declared = 0;
    if (!req.body().empty()) {
      auto j = nlohmann::json::parse(req.body(), nullptr, /*allow_exceptions=*/false);
      if (j.is_discarded() || !j.is_object())
        return json(http::status::bad_request, error_body("body is not a JSON object"));
      if (j.contains("file_size_bytes")) {
        if (!j["file_size_bytes"].is_number_unsigned())
          return json(http::status::bad_request,
                      error_body("file_size_bytes must be a non-negative integer"));
        declared = j["file_size_bytes"].get<uint64_t>();
      }
    }
    auto m = transfers_.create(declared, client_ip);
    if (!m) return json(status_for(m.error()), error_body(m.error().message));
    nlohmann::ordered_json out = {{"transfer_id", m->transfer_id},
                                  {"upload_url", api + "/transfers/upload/" + m->transfer_id}};
    return json(http::status::ok, out.dump());
  }
  if (auto id = path_param(path, api + "/transfers/upload/")) {
    if (!post) return json(http::status::method_not_allowed, error_body("method not allowed"));
    if (auto denied = check_access_token(req)) return *denied;
    return meta_response(transfers_.upload(*id, req.body()), http::status::ok);
  }
  if (auto id = path_param(path, api + "/transfers/complete/")) {
    if (!post) return json(http::status::method_not_allowed, error_body("method not allowed"));
    if (auto denied = check_access_token(req)) return *denied;
    return meta_response(transfers_.complete(*id), http::status::ok);
  }
  if (auto id = path_param(path, api + "/transfers/info/")) {
    if (!get) return json(http::status::method_not_allowed, error_body("method not allowed"));
    return meta_response(transfers_.info(*id), http::status::ok);
  }
  if (auto id = path_param(path, api + "/transfers/download/")) {
    if (!get) return json(http::status::method_not_allowed, error_body("method not allowed"));
    auto payload = transfers_.download(*id);
    if (!payload) return json(status_for(payload.error()), error_body(payload.error().message));
    Response res{http::status::ok, 11};
    res.set(http::field::content_type, "application/octet-stream");
    res.body() = std::move(*payload);
    return res;
  }
  return json(http::status::not_found, error_body("not found"));
}

std::string Service::openapi() const {
  // The shape FastAPI serves: info.version is the app version, `paths` lists the routes.
  nlohmann::ordered_json paths = nlohmann::ordered_json::object();
  const std::string& api = config_.api_prefix;
  for (const char* p :
       {"/transfers/create", "/transfers/upload/{transfer_id}", "/transfers/complete/{transfer_id}",
        "/transfers/info/{transfer_id}", "/transfers/download/{transfer_id}"})
    paths[api + p] = nlohmann::ordered_json::object();
  paths["/info/health"] = nlohmann::ordered_json::object();
  nlohmann::ordered_json j = {{"openapi", "3.1.0"},
                              {"info", {{"title", "SGraph Send (reference)"}, {"version", config_.version}}},
                              {"paths", paths}};
  return j.dump();
}

Response Service::route_admin(const Request& req, std::string_view path) {
  if (auto denied = check_api_key(req)) return *denied;
  const bool get = req.method() == http::verb::get || req.method() == http::verb::head;
  const bool post = req.method() == http::verb::post;
  if (path == "/info/health") {
    if (!get) return json(http::status::method_not_allowed, error_body("method not allowed"));
    return health();
  }
  if (villager::starts_with(path, "/tokens/") && inject_error())
    return json(http::status::internal_server_error, error_body("internal error (fault errors)"));
  if (path == "/tokens/create") {
    if (!post) return json(http::status::method_not_allowed, error_body("method not allowed"));
    auto j = nlohmann::json::parse(req.body(), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object() || !j.contains("name") || !j["name"].is_string())
      return json(http::status::bad_request, error_body("body must be {\"name\": \"...\"}"));
    auto r = tokens_.create(j["name"].get<std::string>());
    if (!r) return json(status_for(r.error()), error_body(r.error().message));
    nlohmann::json out = {{"name", r->name},
                          {"value", r->value},
                          {"status", r->status},
                          {"created_at", r->created_at},
                          {"usage_limit", r->usage_limit},
                          {"usage_count", r->usage_count}};
    return json(http::status::ok, out.dump());
  }
  if (path == "/tokens/list") {
    if (!get) return json(http::status::method_not_allowed, error_body("method not allowed"));
    auto names = tokens_.list();
    if (!names) return json(status_for(names.error()), error_body(names.error().message));
    return json(http::status::ok, nlohmann::json{{"tokens", *names}}.dump());
  }
  if (auto name = path_param(path, "/tokens/lookup/")) {
    if (!get) return json(http::status::method_not_allowed, error_body("method not allowed"));
    auto r = tokens_.lookup(*name);
    if (!r) return json(status_for(r.error()), error_body(r.error().message));
    nlohmann::json out = {{"name", r->name},
                          {"status", r->status},
                          {"created_at", r->created_at},
                          {"usage_limit", r->usage_limit},
                          {"usage_count", r->usage_count}};
    return json(http::status::ok, out.dump());
  }
  return json(http::status::not_found, error_body("not found"));
}

std::optional<Response> Service::redirect_fault(std::string_view path) const {
  const Faults& f = config_.faults;
  std::string to;
  if (path == "/" && f.redirect_root) to = kVersionedRoot;
  if (path == "/" && f.redirect_offsite) to = kOffsiteRoot;
  if (path == "/" && f.redirect_loop) to = "/send/";
  if (path == "/send/" && f.redirect_loop) to = "/";
  if (to.empty()) return std::nullopt;
  Response res{http::status::temporary_redirect, 11};
  res.set(http::field::location, to);
  return res;
}

Response Service::serve_static(const Request& req, std::string_view path) {
  (void)req;
  if (auto r = redirect_fault(path)) return *r;
  if (config_.faults.redirect_root && path == kVersionedRoot) path = "/";
  std::string rel(path.substr(1));
  if (rel.empty() || villager::ends_with(rel, "/")) rel += "index.html";
  if (config_.faults.missing_asset && rel == "assets/upload.js")
    return json(http::status::not_found, error_body("not found"));
  auto it = assets_.find(rel);
  if (it == assets_.end()) {
    // "/en-gb" -> "/en-gb/", as static hosts do for a folder.
    if (assets_.count(rel + "/index.html")) {
      Response res{http::status::moved_permanently, 11};
      res.set(http::field::location, std::string(path) + "/");
      return res;
    }
    return json(http::status::not_found, error_body("not found"));
  }
  Response res{http::status::ok, 11};
  res.set(http::field::content_type, it->second.content_type);
  res.set(http::field::cache_control, "no-cache");
  res.body() = it->second.body;
  return res;
}

}  // namespace send_server
