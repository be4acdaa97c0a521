#include "net/http.h"

#include <curl/curl.h>

#include <cerrno>
#include <cstring>
#include <mutex>

#include "base/redact.h"
#include "base/strings.h"
#include "net/url.h"

namespace villager::net {

namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

struct Collect {
  HttpResponse* response;
  size_t max_body = kMaxResponseBytes;
  bool truncate = false;
  bool too_large = false;
};

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* c = static_cast<Collect*>(user);
  size_t len = size * n;
  std::string& body = c->response->body;
  if (body.size() + len > c->max_body) {
    if (!c->truncate) {
      c->too_large = true;
      return 0;  // aborts the transfer
    }
    body.append(data, c->max_body - body.size());
    return len;
  }
  body.append(data, len);
  return len;
}

int check_abort(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* abort = static_cast<const std::atomic<bool>*>(user);
  return abort->load() ? 1 : 0;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* c = static_cast<Collect*>(user);
  size_t len = size * n;
  std::string_view line(data, len);
  if (starts_with(line, "HTTP/")) {
    // A new status line (after a 100 Continue): the headers before it belonged to that interim answer.
    c->response->headers = Headers();
    return len;
  }
  size_t colon = line.find(':');
  if (colon != std::string_view::npos)
    c->response->headers.add(std::string(trim(line.substr(0, colon))),
                             std::string(trim(line.substr(colon + 1))));
  return len;
}

// Short, stable phrases for the failures people meet most; curl's own text otherwise.
std::string describe(CURLcode rc, long os_errno, const char* detail) {
  if (rc == CURLE_COULDNT_CONNECT && os_errno == ECONNREFUSED) return "connection refused";
  if (rc == CURLE_OPERATION_TIMEDOUT) return std::string("timed out (") + detail + ")";
  if (rc == CURLE_COULDNT_RESOLVE_HOST) return std::string("cannot resolve host (") + detail + ")";
  return *detail ? std::string(detail) : std::string(curl_easy_strerror(rc));
}

}  // namespace

std::optional<std::string> Headers::get(std::string_view name) const {
  for (const auto& [k, v] : items_)
    if (iequals(k, name)) return v;
  return std::nullopt;
}

std::vector<std::string> Headers::get_all(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : items_)
    if (iequals(k, name)) out.push_back(v);
  return out;
}

struct HttpClient::Impl {
  CURL* curl = nullptr;
};

HttpClient::HttpClient() : impl_(std::make_unique<Impl>()) {
  global_init();
  impl_->curl = curl_easy_init();
}

HttpClient::~HttpClient() {
  if (impl_->curl) curl_easy_cleanup(impl_->curl);
}

Result<HttpResponse> HttpClient::send(const HttpRequest& req) {
  const std::string line = redact(req.request_line());
  auto url = parse_url(req.url);
  if (!url) return url.error().context(line);
  CURL* curl = impl_->curl;
  if (!curl) return Internal(line + ": cannot create a curl handle");
  // Reset keeps the connection cache, so keep-alive survives across requests.
  curl_easy_reset(curl);

  HttpResponse resp;
  Collect collect{&resp, req.max_body, req.truncate_body};
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_slist* headers = nullptr;
  curl_slist* connect_to = nullptr;
  bool has_content_type = false;
  for (const auto& [k, v] : req.headers) {
    if (iequals(k, "content-type")) has_content_type = true;
    // "Name;" is curl's way to send a header with an empty value.
    std::string h = v.empty() ? k + ";" : k + ": " + v;
    headers = curl_slist_append(headers, h.c_str());
  }
  // No "Expect: 100-continue" round trip, and no form content type unless the caller asked for one.
  headers = curl_slist_append(headers, "Expect:");
  if (!has_content_type) headers = curl_slist_append(headers, "Content-Type:");
  if (!req.connect_to.empty()) {
    std::string spec = "::" + req.connect_to;
    connect_to = curl_slist_append(connect_to, spec.c_str());
    curl_easy_setopt(curl, CURLOPT_CONNECT_TO, connect_to);
  }

  curl_easy_setopt(curl, CURLOPT_URL, req.url.c_str());
  if (!req.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, req.ca_file.c_str());
  if (!req.verify_tls) {
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(req.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min(req.timeout, kDefaultConnectTimeout).count()));
  curl_easy_setopt(curl, CURLOPT_NOPROXY, "127.0.0.1,localhost,::1");
  if (req.direct) curl_easy_setopt(curl, CURLOPT_PROXY, "");
  if (req.abort) {
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, check_abort);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, const_cast<std::atomic<bool>*>(req.abort));
  }
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &collect);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &collect);
  if (req.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else {
    if (req.method != "GET") curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    if (!req.body.empty() || req.method == "POST" || req.method == "PUT" || req.method == "PATCH") {
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req.body.data());
      // POSTFIELDS switches curl to POST; CUSTOMREQUEST above keeps PUT/PATCH/DELETE as asked.
    }
  }

  CURLcode rc = curl_easy_perform(curl);
  long status = 0, os_errno = 0;
  curl_off_t total_us = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &os_errno);
  curl_easy_getinfo(curl, CURLINFO_TOTAL_TIME_T, &total_us);
  curl_slist_free_all(headers);
  curl_slist_free_all(connect_to);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);

  if (collect.too_large)
    return Unavailable(line + ": response body exceeds " + std::to_string(req.max_body) + " bytes");
  if (rc == CURLE_ABORTED_BY_CALLBACK) return Timeout(line + ": gave up: the process is exiting");
  if (rc != CURLE_OK) {
    std::string why = redact(describe(rc, os_errno, errbuf));
    if (rc == CURLE_OPERATION_TIMEDOUT) return Timeout(line + ": " + why);
    // A certificate this client does not trust stays untrusted: no retry changes it.
    if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE)
      return FailedPrecondition(line + ": " + why);
    return Unavailable(line + ": " + why);
  }
  resp.status = static_cast<int>(status);
  resp.duration = std::chrono::microseconds(total_us);
  return resp;
}

Result<HttpResponse> http_send(const HttpRequest& request) {
  HttpClient client;
  return client.send(request);
}

}  // namespace villager::net
