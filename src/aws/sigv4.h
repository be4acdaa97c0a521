#pragma once
// AWS Signature Version 4 (the AWS4-HMAC-SHA256 scheme), computed with OpenSSL. sign_request() adds
// x-amz-date, x-amz-security-token (with a session token), x-amz-content-sha256 (S3) and Authorization
// to a request whose URL path and query are already percent-encoded, exactly as it goes on the wire.
// The rules follow botocore's SigV4Auth / S3SigV4Auth, and sigv4_test.cc holds villager to them by
// signing generated requests with both.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/credentials.h"
#include "base/clock.h"
#include "base/error.h"

namespace villager::aws {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;  // "GET", "PUT", ...
  std::string url;     // "https://lambda.eu-west-2.amazonaws.com/2015-03-31/functions/f%20x?Qualifier=live"
  Headers headers;     // in order; a repeated name is kept, as on the wire
  std::string body;
};

struct SigningScope {
  std::string service;  // "lambda", "s3", "monitoring", "logs"
  std::string region;   // "eu-west-2"
  SystemTime time;
  // S3 rules: the path is signed as sent (not normalized, not re-encoded) and x-amz-content-sha256
  // carries the payload hash.
  bool s3 = false;
};

// The parts of an absolute http(s) URL, undecoded.
struct UrlParts {
  std::string scheme;  // "http" | "https"
  std::string host;    // as in the URL: "127.0.0.1:4566", "lambda.eu-west-2.amazonaws.com"
  std::string path;    // "/2015-03-31/functions/x" ("" when the URL has none)
  std::string query;   // after '?', before '#'
};
Result<UrlParts> split_url(std::string_view url);

// Percent-encodes everything but the RFC 3986 unreserved characters (A-Z a-z 0-9 - _ . ~); with
// keep_slash, '/' too. This is the encoding AWS wants for path segments and query keys and values.
std::string uri_encode(std::string_view s, bool keep_slash = false);

// The canonical request and string to sign; exposed so tests and debugging can show them.
Result<std::string> canonical_request(const HttpRequest& req, const SigningScope& scope);
std::string string_to_sign(std::string_view canonical, const SigningScope& scope);
// HMAC chain "AWS4"+secret -> date -> region -> service -> "aws4_request" (32 raw bytes).
std::string signing_key(std::string_view secret, std::string_view date, std::string_view region,
                        std::string_view service);

// Signs `req` in place: removes any earlier Authorization/x-amz-date/x-amz-security-token (a retry
// signs again) and adds the headers listed above. A request without a Host header signs the URL's
// host, which is what libcurl sends.
Status sign_request(HttpRequest& req, const Credentials& creds, const SigningScope& scope);

// "20261127T124900Z"
std::string amz_date(SystemTime t);

}  // namespace villager::aws
