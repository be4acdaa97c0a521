#include "aws/client.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <thread>

#include "base/fs.h"
#include "base/strings.h"
#include "base/subprocess.h"
#include "testutil/fake_clock.h"
#include "testutil/temp_dir.h"

namespace villager::aws {
namespace {

HttpResponse resp(int status, std::string body, Headers h = {}) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(h);
  return r;
}

TEST(AwsClient, BackoffDoublesAndIsCapped) {
  RetryPolicy p{6, Millis(200), Millis(1000)};
  EXPECT_EQ(backoff_delay(p, 0, 0.0), Millis(100));
  EXPECT_EQ(backoff_delay(p, 0, 1.0), Millis(200));
  EXPECT_EQ(backoff_delay(p, 2, 1.0), Millis(800));
  EXPECT_EQ(backoff_delay(p, 5, 1.0), Millis(1000));
  EXPECT_EQ(backoff_delay(p, 30, 0.0), Millis(500));
}

TEST(AwsClient, ParsesJsonXmlAndHeaderErrors) {
  auto a = parse_aws_error(resp(404, R"({"Type":"User","Message":"Function not found: x"})",
                                {{"x-amzn-ErrorType", "ResourceNotFoundException:http://internal"}}));
  EXPECT_EQ(a.code, "User");
  auto b = parse_aws_error(
      resp(400, R"({"__type":"com.amazonaws#ThrottlingException","message":"Rate exceeded"})"));
  EXPECT_EQ(b.code, "ThrottlingException");
  EXPECT_EQ(b.message, "Rate exceeded");
  auto c =
      parse_aws_error(resp(403, "<Error><Code>SignatureDoesNotMatch</Code><Message>no</Message></Error>"));
  EXPECT_EQ(c.code, "SignatureDoesNotMatch");
  auto d =
      parse_aws_error(resp(404, "", {{"X-Amzn-ErrorType", "ResourceNotFoundException:http://internal"}}));
  EXPECT_EQ(d.code, "ResourceNotFoundException");
}

TEST(AwsClient, RetriesThrottlingAndServerErrorsOnly) {
  EXPECT_TRUE(is_retryable(resp(429, R"({"Type":"User","message":"Rate"})")));
  EXPECT_TRUE(is_retryable(resp(503, "")));
  EXPECT_TRUE(is_retryable(resp(400, R"({"__type":"ThrottlingException"})")));
  EXPECT_TRUE(is_retryable(resp(400, "", {{"x-amzn-ErrorType", "TooManyRequestsException"}})));
  EXPECT_FALSE(is_retryable(resp(400, R"({"__type":"InvalidParameterValueException"})")));
  EXPECT_FALSE(is_retryable(resp(404, "")));
  EXPECT_FALSE(is_retryable(resp(403, "<Error><Code>SignatureDoesNotMatch</Code></Error>")));
}

// A real loopback HTTP server that answers from a script of statuses, so the retry loop is exercised
// over the wire; the FakeClock makes the backoff sleeps instant.
class ScriptedServer {
 public:
  explicit ScriptedServer(const std::string& statuses) {
    auto script = dir_ / "server.py";
    (void)write_file_atomic(script, R"PY(
import http.server, sys, json
statuses = sys.argv[1].split(",")
class H(http.server.BaseHTTPRequestHandler):
    def do_any(self):
        n = int(self.headers.get("content-length") or 0)
        self.rfile.read(n)
        code = int(statuses.pop(0)) if statuses else 200
        if code == 429:
            body = json.dumps({"Type": "User", "message": "Rate exceeded"}).encode()
            extra = [("x-amzn-ErrorType", "TooManyRequestsException")]
        elif code >= 400:
            body = json.dumps({"__type": "ServiceException", "message": "boom"}).encode()
            extra = []
        else:
            body = json.dumps({"auth": self.headers.get("authorization", "")}).encode()
            extra = []
        self.send_response(code)
        for k, v in extra: self.send_header(k, v)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    do_GET = do_PUT = do_POST = do_any
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
)PY");
    SpawnOptions opts;
    opts.stdout_path = (dir_ / "port").string();
    auto pid = spawn_process({"python3", script.string(), statuses}, opts);
    if (pid) pid_ = *pid;
    for (int i = 0; i < 200 && port_ == 0; ++i) {
      auto text = read_file(dir_ / "port");
      if (text && !trim(*text).empty())
        port_ = std::atoi(std::string(trim(*text)).c_str());
      else
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ~ScriptedServer() {
    if (pid_ > 0) {
      ::kill(-pid_, SIGKILL);
      reap_if_exited(pid_);
    }
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }

 private:
  TempDir dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

ClientOptions options(const std::string& endpoint, Clock* clock) {
  ClientOptions o;
  o.service = "lambda";
  o.region = "eu-west-2";
  o.endpoint = endpoint;
  o.credentials.access_key_id = "AKIATEST";
  o.credentials.secret_access_key = Secret("testsecretkey");
  o.clock = clock;
  o.timeout = Millis(20000);
  return o;
}

TEST(AwsClient, RetriesOverTheWireUntilSuccess) {
  ScriptedServer server("429,503,500");
  ASSERT_GT(server.port(), 0);
  FakeClock clock;
  auto start = clock.now();
  AwsClient client(options(server.url(), &clock));
  auto r = client.call("GET", "/2015-03-31/functions/f");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(client.last_attempts(), 4);
  EXPECT_NE(r->body.find("AWS4-HMAC-SHA256 Credential=AKIATEST/"), std::string::npos);
  // Three backoffs of at least 100, 200 and 400 ms passed on the fake clock.
  EXPECT_GE(clock.now() - start, Millis(700));
}

TEST(AwsClient, GivesUpAfterMaxAttemptsAsUnavailable) {
  ScriptedServer server("503,503,503");
  ASSERT_GT(server.port(), 0);
  FakeClock clock;
  auto o = options(server.url(), &clock);
  o.retry.max_attempts = 3;
  AwsClient client(o);
  auto r = client.call("PUT", "/x", "{}");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Code::kUnavailable);
  EXPECT_NE(r.error().message.find("gave up after 3 attempts"), std::string::npos) << r.error().message;
}

TEST(AwsClient, ClientErrorsAreNotRetried) {
  ScriptedServer server("404");
  ASSERT_GT(server.port(), 0);
  FakeClock clock;
  AwsClient client(options(server.url(), &clock));
  auto r = client.call("GET", "/x");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Code::kNotFound);
  EXPECT_EQ(client.last_attempts(), 1);
}

TEST(AwsClient, EndpointOverrideOrder) {
  EXPECT_EQ(resolve_endpoint("http://127.0.0.1:5000/", "lambda", "LAMBDA", "eu-west-2"),
            "http://127.0.0.1:5000");
  ::unsetenv("AWS_ENDPOINT_URL");
  ::unsetenv("AWS_ENDPOINT_URL_LAMBDA");
  EXPECT_EQ(resolve_endpoint("", "lambda", "LAMBDA", "eu-west-2"), "https://lambda.eu-west-2.amazonaws.com");
  ::setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1", 1);
  EXPECT_EQ(resolve_endpoint("", "lambda", "LAMBDA", "eu-west-2"), "http://127.0.0.1:1");
  ::setenv("AWS_ENDPOINT_URL_LAMBDA", "http://127.0.0.1:2", 1);
  EXPECT_EQ(resolve_endpoint("", "lambda", "LAMBDA", "eu-west-2"), "http://127.0.0.1:2");
  ::unsetenv("AWS_ENDPOINT_URL");
  ::unsetenv("AWS_ENDPOINT_URL_LAMBDA");
}

}  // namespace
}  // namespace villager::aws
