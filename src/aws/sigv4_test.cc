#include "aws/sigv4.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "base/subprocess.h"

namespace villager::aws {
namespace {

using json = nlohmann::json;

Credentials creds(std::string id, std::string secret, std::string token = "") {
  Credentials c;
  c.access_key_id = std::move(id);
  c.secret_access_key = Secret(std::move(secret));
  if (!token.empty()) c.session_token = Secret(std::move(token));
  return c;
}

std::string header(const Headers& h, std::string_view lname) {
  for (const auto& [n, v] : h)
    if (to_lower(n) == lname) return v;
  return "<missing>";
}

// The signing-key example from the AWS General Reference (SigV4, "deriving the signing key").
TEST(SigV4, SigningKeyMatchesAwsDocumentation) {
  EXPECT_EQ(
      hex_encode(signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam")),
      "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

// "get-vanilla" from the AWS SigV4 test suite.
TEST(SigV4, GetVanillaMatchesAwsTestSuite) {
  HttpRequest req{"GET", "https://example.amazonaws.com/", {}, ""};
  SigningScope scope{"service", "us-east-1", from_unix_millis(1440938160000), false};  // 20150830T123600Z
  ASSERT_TRUE(
      sign_request(req, creds("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"), scope).ok());
  EXPECT_EQ(header(req.headers, "x-amz-date"), "20150830T123600Z");
  EXPECT_EQ(header(req.headers, "authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            "SignedHeaders=host;x-amz-date, "
            "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(SigV4, ResigningReplacesEarlierSignatureHeaders) {
  HttpRequest req{"GET", "http://127.0.0.1:4566/2015-03-31/functions", {}, ""};
  SigningScope scope{"lambda", "eu-west-2", from_unix_millis(1790000000000), false};
  auto c = creds("AKIATEST", "secretsecretsecret", "tokentoken");
  ASSERT_TRUE(sign_request(req, c, scope).ok());
  auto first = header(req.headers, "authorization");
  ASSERT_TRUE(sign_request(req, c, scope).ok());
  EXPECT_EQ(header(req.headers, "authorization"), first);
  int auth_count = 0;
  for (const auto& h : req.headers) auth_count += to_lower(h.first) == "authorization";
  EXPECT_EQ(auth_count, 1);
}

TEST(SigV4, RefusesEmptyCredentials) {
  HttpRequest req{"GET", "http://127.0.0.1/", {}, ""};
  EXPECT_FALSE(sign_request(req, Credentials{}, SigningScope{"lambda", "eu-west-2", {}, false}).ok());
}

TEST(SigV4, UriEncodeKeepsOnlyUnreserved) {
  EXPECT_EQ(uri_encode("a b/ü~-_.*"), "a%20b%2F%C3%BC~-_.%2A");
  EXPECT_EQ(uri_encode("a b/c", true), "a%20b/c");
}

TEST(SigV4, SplitUrl) {
  auto u = split_url("http://127.0.0.1:4566/a/b?x=1#frag");
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->host, "127.0.0.1:4566");
  EXPECT_EQ(u->path, "/a/b");
  EXPECT_EQ(u->query, "x=1");
  EXPECT_FALSE(split_url("ftp://x/").has_value());
}

// Cross-check against an implementation nobody here wrote: botocore's SigV4Auth / S3SigV4Auth sign many
// generated requests (methods, encoded and raw unicode paths, dot segments, repeated query keys, odd
// header whitespace, repeated and unsigned headers, session tokens, S3 payload hashes); villager must
// produce the identical Authorization, X-Amz-Date, token and content-hash headers for every one.
TEST(SigV4, IdenticalToBotocoreForGeneratedRequests) {
  const char* src = VILLAGER_AWS_SOURCE_DIR;
  std::string script = std::string(src) + "/src/aws/testdata/botocore_sign.py";
  auto run = run_process({"python3", script, "600"});
  ASSERT_TRUE(run.has_value()) << run.error().message;
  ASSERT_EQ(run->exit_code, 0) << "botocore signer failed (is botocore installed?): " << run->err;
  int checked = 0, s3 = 0, tokens = 0;
  for (const auto& line : split(run->out, '\n')) {
    if (line.empty()) continue;
    auto c = json::parse(line);
    HttpRequest req;
    req.method = c["method"];
    req.url = c["url"];
    for (const auto& h : c["headers"]) req.headers.emplace_back(h[0], h[1]);
    auto body = hex_decode(c["body_hex"].get<std::string>());
    ASSERT_TRUE(body.has_value());
    req.body = *body;
    SigningScope scope{c["service"], c["region"], from_unix_millis(c["time"].get<int64_t>() * 1000), c["s3"]};
    auto cr = creds(c["access_key"], c["secret_key"], c["token"]);
    ASSERT_TRUE(sign_request(req, cr, scope).ok());
    for (const auto& [name, value] : c["expected"].items()) {
      ASSERT_EQ(header(req.headers, name), value.get<std::string>())
          << "request " << c["id"] << " " << req.method << " " << req.url << "\nbotocore canonical request:\n"
          << c["canonical_request"].get<std::string>() << "\n";
    }
    ++checked;
    s3 += c["s3"].get<bool>();
    tokens += !c["token"].get<std::string>().empty();
  }
  EXPECT_EQ(checked, 600);
  EXPECT_GT(s3, 30);
  EXPECT_GT(tokens, 30);
}

}  // namespace
}  // namespace villager::aws
