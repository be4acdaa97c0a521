#pragma once
// AwsClient: signed HTTP calls to one AWS service in one region, over libcurl. Throttling (429,
// ThrottlingException, TooManyRequestsException, ...), 5xx answers and refused connections are retried
// with capped exponential backoff (sleeping on the injected Clock); every attempt is signed afresh.
// Non-2xx answers become Errors carrying the AWS error code and message: 404 -> NotFound,
// 409 -> Conflict, 412 -> FailedPrecondition, 400 -> InvalidArgument, 401/403 -> PermissionDenied
// (with a hint when the signature was refused), throttling or 5xx after the last attempt -> Unavailable.

#include <chrono>
#include <string>

#include "aws/credentials.h"
#include "aws/sigv4.h"
#include "base/clock.h"
#include "base/error.h"

namespace villager::aws {

using Millis = std::chrono::milliseconds;

struct HttpResponse {
  int status = 0;
  Headers headers;
  std::string body;
  // The first value of header `name` (case-insensitive), or "".
  std::string header(std::string_view name) const;
};

// One HTTP exchange, no signing, no retry. Transport failures are Unavailable ("connecting to ...").
Result<HttpResponse> http_perform(const HttpRequest& req, Millis timeout);

struct RetryPolicy {
  int max_attempts = 6;  // including the first
  Millis base_delay{200};
  Millis max_delay{5000};
};

// The delay before retry number `retry` (0-based): a random point in [d/2, d] with
// d = min(max_delay, base_delay * 2^retry); `unit_random` in [0, 1) picks the point.
Millis backoff_delay(const RetryPolicy& policy, int retry, double unit_random);

// The AWS error code and message of an answer (JSON "__type"/"message", x-amzn-ErrorType, or S3's XML
// <Code>/<Message>); empty strings when the body says nothing.
struct AwsErrorInfo {
  std::string code;  // "ResourceNotFoundException" (any "prefix#" or ":suffix" removed)
  std::string message;
};
AwsErrorInfo parse_aws_error(const HttpResponse& resp);
// Whether an answer is worth another attempt: throttling or a server-side failure.
bool is_retryable(const HttpResponse& resp);

// The base URL for `service` in `region`: `configured` when set, else $AWS_ENDPOINT_URL_<SERVICE>
// (e.g. AWS_ENDPOINT_URL_LAMBDA), else $AWS_ENDPOINT_URL, else https://<host>.<region>.amazonaws.com.
// `env_name` is the service's environment-variable suffix ("LAMBDA", "S3", "CLOUDWATCH", "CLOUDWATCH_LOGS").
std::string resolve_endpoint(const std::string& configured, const std::string& host_prefix,
                             const std::string& env_name, const std::string& region);

struct ClientOptions {
  std::string service;   // signing name: "lambda", "s3", "monitoring", "logs"
  std::string region;    // "eu-west-2"
  std::string endpoint;  // base URL without a trailing slash, e.g. "http://127.0.0.1:4566"
  Credentials credentials;
  RetryPolicy retry;
  Millis timeout{60000};   // per attempt
  Clock* clock = nullptr;  // default: real_clock()
};

class AwsClient {
 public:
  explicit AwsClient(ClientOptions opts);

  // Sends `method` to endpoint + `path_and_query` (already percent-encoded) and returns a 2xx answer,
  // or the error described above. `content_type` is sent (and signed) when the body is non-empty.
  Result<HttpResponse> call(const std::string& method, const std::string& path_and_query,
                            const std::string& body = "",
                            const std::string& content_type = "application/json",
                            const Headers& extra_headers = {});

  const ClientOptions& options() const { return opts_; }
  // Attempts made by the last call (1 when it needed no retry); for tests and progress lines.
  int last_attempts() const { return last_attempts_; }

 private:
  ClientOptions opts_;
  int last_attempts_ = 0;
};

}  // namespace villager::aws
