// The S3, CloudWatch Logs and CloudWatch readers against moto, every request passing the botocore
// signature check of test/e2e/lib/aws/sigv4_proxy.py (a mismatch would be a 403 and fail the test).

#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>
#include <thread>

#include "aws/cloudwatch.h"
#include "aws/logs_client.h"
#include "aws/s3_client.h"
#include "base/fs.h"
#include "base/strings.h"
#include "base/subprocess.h"
#include "testutil/temp_dir.h"

namespace villager::aws {
namespace {

int free_port() {
  auto r =
      run_process({"python3", "-c",
                   "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"});
  return r && r->exit_code == 0 ? std::atoi(r->out.c_str()) : 0;
}

bool wait_port(int port) {
  for (int i = 0; i < 300; ++i) {  // bounded: 30 s
    auto r = run_process({"python3", "-c",
                          "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(('127.0.0.1'," +
                              std::to_string(port) + ")))"});
    if (r && r->exit_code == 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

// moto_server and the verifying pass-through, both stopped (process group and all) on destruction.
class MotoBehindProxy : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* src = VILLAGER_AWS_SOURCE_DIR;
    int moto_port = free_port();
    ASSERT_GT(moto_port, 0);
    SpawnOptions o;
    o.stderr_path = (dir_.path() / "moto.log").string();
    auto moto = spawn_process({"moto_server", "-H", "127.0.0.1", "-p", std::to_string(moto_port)}, o);
    ASSERT_TRUE(moto.has_value()) << moto.error().message;
    pids_.push_back(*moto);
    ASSERT_TRUE(wait_port(moto_port));
    moto_ = "http://127.0.0.1:" + std::to_string(moto_port);
    auto seeded = run_process({"python3", std::string(src) + "/src/aws/testdata/moto_seed.py", moto_});
    ASSERT_TRUE(seeded && seeded->exit_code == 0) << (seeded ? seeded->err : seeded.error().message);
    now_ms_ = std::atoll(seeded->out.c_str());
    auto port_file = (dir_.path() / "proxy.port").string();
    SpawnOptions po;
    po.stderr_path = (dir_.path() / "proxy.err").string();
    auto proxy =
        spawn_process({"python3", std::string(src) + "/test/e2e/lib/aws/sigv4_proxy.py", "--upstream", moto_,
                       "--key", "AKIAMOTOTEST00000000:moto-test-secret", "--port-file", port_file},
                      po);
    ASSERT_TRUE(proxy.has_value());
    pids_.push_back(*proxy);
    for (int i = 0; i < 300 && proxy_port_ == 0; ++i) {
      if (auto t = read_file(port_file); t && !t->empty())
        proxy_port_ = std::atoi(t->c_str());
      else
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_GT(proxy_port_, 0);
  }
  void TearDown() override {
    for (pid_t p : pids_) ::kill(-p, SIGTERM);
    for (pid_t p : pids_) {
      for (int i = 0; i < 50 && !reap_if_exited(p); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      ::kill(-p, SIGKILL);
      reap_if_exited(p);
    }
  }
  AwsClient client(const std::string& service) {
    ClientOptions o;
    o.service = service;
    o.region = "eu-west-2";
    o.endpoint = "http://127.0.0.1:" + std::to_string(proxy_port_);
    o.credentials.access_key_id = "AKIAMOTOTEST00000000";
    o.credentials.secret_access_key = Secret("moto-test-secret");
    return AwsClient(o);
  }

  TempDir dir_;
  std::vector<pid_t> pids_;
  std::string moto_;
  int proxy_port_ = 0;
  int64_t now_ms_ = 0;
};

TEST_F(MotoBehindProxy, S3ListsAndReadsTransferObjects) {
  auto s3 = client("s3");
  auto keys = s3_list_keys(s3, "villager-transfers", "data/transfers/");
  ASSERT_TRUE(keys.has_value()) << keys.error().message;
  EXPECT_EQ(*keys,
            (std::vector<std::string>{"data/transfers/ab/abcd/meta.json", "data/transfers/ab/abcd/payload",
                                      "data/transfers/cd/odd name ü&<>/payload"}));
  auto payload = s3_get_object(s3, "villager-transfers", "data/transfers/ab/abcd/payload");
  ASSERT_TRUE(payload.has_value()) << payload.error().message;
  ASSERT_EQ(payload->size(), 256u);
  EXPECT_EQ(static_cast<unsigned char>((*payload)[255]), 255);
  auto odd = s3_get_object(s3, "villager-transfers", "data/transfers/cd/odd name ü&<>/payload");
  ASSERT_TRUE(odd.has_value()) << odd.error().message;
  EXPECT_EQ(*odd, "odd");
  auto missing = s3_get_object(s3, "villager-transfers", "nope");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, Code::kNotFound);
}

TEST_F(MotoBehindProxy, LogsFilterReadsAFunctionsEvents) {
  auto logs = client("logs");
  auto events = filter_log_events(logs, "/aws/lambda/fn", now_ms_ - 60000, now_ms_ + 60000);
  ASSERT_TRUE(events.has_value()) << events.error().message;
  EXPECT_EQ(*events, (std::vector<std::string>{"START RequestId: 1", "GET /info/health 200"}));
}

TEST_F(MotoBehindProxy, LogsFilterNamesEachEventsStream) {
  auto logs = client("logs");
  auto events = filter_log_event_records(logs, "/aws/lambda/fn", now_ms_ - 60000, now_ms_ + 60000);
  ASSERT_TRUE(events.has_value()) << events.error().message;
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[1].stream, "s1");
  EXPECT_EQ((*events)[1].message, "GET /info/health 200");
  EXPECT_GT((*events)[1].timestamp_ms, now_ms_ - 60000);
}

TEST_F(MotoBehindProxy, MetricDataSumsPerAlias) {
  auto cw = client("monitoring");
  std::vector<std::pair<std::string, std::string>> dims = {{"FunctionName", "fn"}, {"Resource", "fn:live"}};
  auto now = std::chrono::system_clock::now();
  auto data = get_metric_data(cw,
                              {{"errors", "AWS/Lambda", "Errors", "Sum", dims, 60},
                               {"invocations", "AWS/Lambda", "Invocations", "Sum", dims, 60}},
                              now - std::chrono::minutes(10), now + std::chrono::minutes(1));
  ASSERT_TRUE(data.has_value()) << data.error().message;
  double errors = 0, invocations = 0;
  for (double v : (*data)["errors"]) errors += v;
  for (double v : (*data)["invocations"]) invocations += v;
  EXPECT_EQ(errors, 7);
  EXPECT_EQ(invocations, 100);
}

}  // namespace
}  // namespace villager::aws
