// A real Prometheus server (Debian's `prometheus`) scrapes an endpoint serving write_prometheus()'s
// output; the series are read back through its HTTP API.

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "monitor/prometheus.h"
#include "testutil/test_processes.h"
#include "testutil/fake_clock.h"
#include "testutil/temp_dir.h"

namespace villager::monitor {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using testing::eventually;
using testing::read_file;

// Percent-encodes a PromQL query for a URL.
std::string encode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (isalnum(c) || c == '_' || c == '.' || c == '-') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

TEST(PrometheusScrape, RealPrometheusReadsTheSeriesBack) {
  TempDir dir;
  FakeClock clock;
  MetricsRegistry reg(clock);
  auto rec = reg.recorder("production", "user");
  for (int i = 0; i < 97; ++i) rec->record("sha256-good", 200, 2000, 0, 100);
  for (int i = 0; i < 3; ++i) rec->record("sha256-good", 503, 40'000, 0, 10);
  Exposition e;
  e.series = reg.collect();
  e.probes.push_back({"production", "user", "public", "", true});
  std::ofstream(dir / "metrics") << write_prometheus(e);

  int port = 0;
  auto server = testing::start_receiver(dir.path().string(), &port);
  ASSERT_NE(port, 0);
  int prom_port = testing::free_port();
  std::ofstream(dir / "prometheus.yml") << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                                           "scrape_configs:\n  - job_name: villager\n    static_configs:\n"
                                           "      - targets: ['127.0.0.1:"
                                        << port << "']\n";
  auto prom = testing::spawn({"prometheus", "--config.file=" + (dir / "prometheus.yml").string(),
                              "--storage.tsdb.path=" + (dir / "tsdb").string(),
                              "--web.listen-address=127.0.0.1:" + std::to_string(prom_port)},
                             (dir / "prometheus.log").string());
  std::string base = "http://127.0.0.1:" + std::to_string(prom_port);

  auto query = [&](const std::string& promql) -> json {
    auto r = testing::http_get(base + "/api/v1/query?query=" + encode(promql));
    if (!r || r->status != 200) return json();
    json j = json::parse(r->body, nullptr, false);
    if (j.is_discarded() || j["status"] != "success") return json();
    return j["data"]["result"];
  };
  json result;
  ASSERT_TRUE(eventually(
      [&] {
        result = query("villager_requests_total{code_class=\"5xx\"}");
        return result.is_array() && !result.empty();
      },
      90s))
      << read_file((dir / "prometheus.log").string());
  EXPECT_EQ(result[0]["metric"]["environment"], "production");
  EXPECT_EQ(result[0]["metric"]["service"], "user");
  EXPECT_EQ(result[0]["metric"]["release"], "sha256-good");
  EXPECT_EQ(result[0]["value"][1], "3");

  result = query("villager_request_duration_seconds_count");
  ASSERT_FALSE(result.empty());
  EXPECT_EQ(result[0]["value"][1], "100");
  // The histogram is usable as one: 97% of requests took <= 2.5 ms.
  result = query("histogram_quantile(0.5, villager_request_duration_seconds_bucket)");
  ASSERT_FALSE(result.empty());
  double p50 = std::stod(result[0]["value"][1].get<std::string>());
  EXPECT_GT(p50, 0.001);
  EXPECT_LE(p50, 0.0025);
  result = query("villager_up{kind=\"public\"}");
  ASSERT_FALSE(result.empty());
  EXPECT_EQ(result[0]["value"][1], "1");
}

}  // namespace
}  // namespace villager::monitor
