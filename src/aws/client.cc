#include "aws/client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>

#include "base/redact.h"
#include "base/strings.h"

namespace villager::aws {

namespace {

using json = nlohmann::json;

void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t on_body(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* resp = static_cast<HttpResponse*>(user);
  std::string_view line(data, size * n);
  if (starts_with(line, "HTTP/")) {
    resp->headers.clear();  // a 100 Continue or a redirect starts a new header block
    return size * n;
  }
  auto colon = line.find(':');
  if (colon != std::string_view::npos)
    resp->headers.emplace_back(std::string(trim(line.substr(0, colon))),
                               std::string(trim(line.substr(colon + 1))));
  return size * n;
}

std::string after_last(std::string s, char c) {
  auto pos = s.rfind(c);
  return pos == std::string::npos ? s : s.substr(pos + 1);
}

std::string xml_element(const std::string& body, const std::string& name) {
  auto open = body.find("<" + name + ">");
  if (open == std::string::npos) return "";
  auto start = open + name.size() + 2;
  auto close = body.find("</" + name + ">", start);
  if (close == std::string::npos) return "";
  return body.substr(start, close - start);
}

double unit_random() {
  static std::mutex mu;
  static std::mt19937_64 rng{std::random_device{}()};
  std::lock_guard<std::mutex> lock(mu);
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

Error error_for(const HttpResponse& resp, const std::string& what) {
  auto info = parse_aws_error(resp);
  std::string detail = "HTTP " + std::to_string(resp.status);
  if (!info.code.empty()) detail += " " + info.code;
  if (!info.message.empty()) detail += ": " + info.message;
  detail = redact(detail);
  const auto& c = info.code;
  if (c == "SignatureDoesNotMatch" || c == "InvalidSignatureException" || c == "IncompleteSignature")
    return PermissionDenied(what + ": AWS refused the request signature (" + detail +
                            "); check that AWS_SECRET_ACCESS_KEY belongs to the access key id");
  if (c == "UnrecognizedClientException" || c == "InvalidClientTokenId" || c == "InvalidAccessKeyId" ||
      c == "ExpiredToken" || c == "ExpiredTokenException")
    return PermissionDenied(what + ": AWS does not accept these credentials (" + detail + ")");
  switch (resp.status) {
    case 404:
      return NotFound(what + ": " + detail);
    case 409:
      return Conflict(what + ": " + detail);
    case 412:
      return FailedPrecondition(what + ": " + detail);
    case 401:
    case 403:
      return PermissionDenied(what + ": " + detail);
    case 400:
      return InvalidArgument(what + ": " + detail);
    default:
      break;
  }
  if (resp.status == 429 || resp.status >= 500) return Unavailable(what + ": " + detail);
  return Internal(what + ": " + detail);
}

}  // namespace

std::string HttpResponse::header(std::string_view name) const {
  auto lname = to_lower(name);
  for (const auto& [n, v] : headers)
    if (to_lower(n) == lname) return v;
  return "";
}

Result<HttpResponse> http_perform(const HttpRequest& req, Millis timeout) {
  init_curl_once();
  CURL* curl = curl_easy_init();
  if (!curl) return Internal("curl_easy_init failed");
  HttpResponse resp;
  curl_slist* list = nullptr;
  bool has_content_type = false;
  for (const auto& [n, v] : req.headers) {
    if (to_lower(n) == "content-type") has_content_type = true;
    list = curl_slist_append(list, (n + ": " + v).c_str());
  }
  // libcurl would add these on its own; AWS needs neither, and an unsigned Content-Type can confuse.
  list = curl_slist_append(list, "Expect:");
  if (!has_content_type) list = curl_slist_append(list, "Content-Type:");
  curl_easy_setopt(curl, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &resp.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &resp);
  if (req.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (req.method != "GET" || !req.body.empty()) {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
  }
  CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  auto u = split_url(req.url);
  std::string where = u ? u->scheme + "://" + u->host : req.url;
  if (rc == CURLE_OPERATION_TIMEDOUT)
    return Timeout("no answer from " + where + " within " + format_duration(timeout));
  if (rc != CURLE_OK) return Unavailable("connecting to " + where + ": " + curl_easy_strerror(rc));
  resp.status = static_cast<int>(status);
  return resp;
}

Millis backoff_delay(const RetryPolicy& policy, int retry, double unit_random) {
  double d = static_cast<double>(policy.base_delay.count());
  for (int i = 0; i < retry && d < policy.max_delay.count(); ++i) d *= 2;
  d = std::min(d, static_cast<double>(policy.max_delay.count()));
  return Millis(static_cast<int64_t>(d / 2 + d / 2 * std::clamp(unit_random, 0.0, 1.0)));
}

AwsErrorInfo parse_aws_error(const HttpResponse& resp) {
  AwsErrorInfo info;
  auto j = json::parse(resp.body, nullptr, false);
  if (j.is_object()) {
    for (const char* k : {"__type", "code", "Code", "Type"})
      if (j.contains(k) && j[k].is_string()) {
        info.code = j[k].get<std::string>();
        break;
      }
    for (const char* k : {"message", "Message", "errorMessage"})
      if (j.contains(k) && j[k].is_string()) {
        info.message = j[k].get<std::string>();
        break;
      }
    if (info.code.empty() && j.contains("Error") && j["Error"].is_object()) {
      info.code = j["Error"].value("Code", "");
      info.message = j["Error"].value("Message", "");
    }
  } else if (resp.body.find("<Code>") != std::string::npos) {
    info.code = xml_element(resp.body, "Code");
    info.message = xml_element(resp.body, "Message");
  }
  if (info.code.empty()) info.code = resp.header("x-amzn-ErrorType");
  // "aws.protocoljson#ThrottlingException" and "ThrottlingException:http://..." name the same code.
  info.code = after_last(info.code, '#');
  if (auto colon = info.code.find(':'); colon != std::string::npos) info.code = info.code.substr(0, colon);
  return info;
}

bool is_retryable(const HttpResponse& resp) {
  if (resp.status == 429 || resp.status >= 500) return true;
  auto code = parse_aws_error(resp).code;
  for (const char* c :
       {"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded",
        "ThrottledException", "SlowDown", "RequestThrottled", "RequestThrottledException",
        "ProvisionedThroughputExceededException", "EC2ThrottledException"})
    if (code == c) return true;
  return false;
}

std::string resolve_endpoint(const std::string& configured, const std::string& host_prefix,
                             const std::string& env_name, const std::string& region) {
  auto strip = [](std::string s) {
    while (!s.empty() && s.back() == '/') s.pop_back();
    return s;
  };
  if (!configured.empty()) return strip(configured);
  if (const char* v = std::getenv(("AWS_ENDPOINT_URL_" + env_name).c_str()); v && *v) return strip(v);
  if (const char* v = std::getenv("AWS_ENDPOINT_URL"); v && *v) return strip(v);
  return "https://" + host_prefix + "." + region + ".amazonaws.com";
}

AwsClient::AwsClient(ClientOptions opts) : opts_(std::move(opts)) {
  if (!opts_.clock) opts_.clock = &real_clock();
}

Result<HttpResponse> AwsClient::call(const std::string& method, const std::string& path_and_query,
                                     const std::string& body, const std::string& content_type,
                                     const Headers& extra_headers) {
  std::string what = opts_.service + " " + method + " " + path_and_query;
  last_attempts_ = 0;
  for (int attempt = 0;; ++attempt) {
    HttpRequest req;
    req.method = method;
    req.url = opts_.endpoint + path_and_query;
    req.body = body;
    req.headers = extra_headers;
    if (!body.empty() && !content_type.empty()) req.headers.emplace_back("Content-Type", content_type);
    SigningScope scope{opts_.service, opts_.region, opts_.clock->now(), opts_.service == "s3"};
    VILLAGER_RETURN_IF_ERROR(sign_request(req, opts_.credentials, scope));
    ++last_attempts_;
    auto resp = http_perform(req, opts_.timeout);
    bool last = attempt + 1 >= opts_.retry.max_attempts;
    if (!resp) {
      // Only a connection that never opened is safe to repeat for every method.
      bool refused = resp.error().code == Code::kUnavailable;
      if (!refused || last) return resp.error().context(what);
    } else if (resp->status >= 200 && resp->status < 300) {
      return resp;
    } else if (!is_retryable(*resp) || last) {
      auto err = error_for(*resp, what);
      if (last && is_retryable(*resp))
        err.message += " (gave up after " + std::to_string(last_attempts_) + " attempts)";
      return err;
    }
    opts_.clock->sleep_for(backoff_delay(opts_.retry, attempt, unit_random()));
  }
}

}  // namespace villager::aws
