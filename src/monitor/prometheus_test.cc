#include "monitor/prometheus.h"

#include <gtest/gtest.h>

#include <fstream>

#include "base/subprocess.h"
#include "testutil/fake_clock.h"
#include "testutil/temp_dir.h"

namespace villager::monitor {
namespace {

Exposition sample_exposition() {
  static FakeClock clock;
  MetricsRegistry reg(clock);
  auto rec = reg.recorder("prod", "user");
  rec->record("sha256-a", 200, 300, 10, 100);   // 0.3 ms
  rec->record("sha256-a", 200, 1000, 10, 100);  // exactly 1 ms
  rec->record("sha256-a", 503, 40'000, 0, 50);  // 40 ms
  // Over 60 s: the histogram clamps it into its top bucket, so it counts in le="60" (documented).
  rec->record("we\"ird\\re\nlease", 200, 70'000'000, 0, 0);
  Exposition e;
  e.series = reg.collect();
  e.probes.push_back({"prod", "user", "public", "", true});
  e.probes.push_back({"prod", "user", "slot", "sha256-a", false});
  e.restarts.push_back({"prod", "user", "sha256-a", 3});
  e.alarms.push_back({"prod", "user", "5xx", "critical", true});
  return e;
}

TEST(Prometheus, EscapesLabelValues) {
  EXPECT_EQ(escape_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}

TEST(Prometheus, CountersBucketsSumAndCount) {
  std::string text = write_prometheus(sample_exposition());
  EXPECT_NE(text.find("# TYPE villager_requests_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("villager_requests_total{environment=\"prod\",service=\"user\",release=\"sha256-a\","
                      "code_class=\"2xx\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("code_class=\"5xx\"} 1\n"), std::string::npos);
  std::string b =
      "villager_request_duration_seconds_bucket{environment=\"prod\",service=\"user\",release=\"sha256-a\",";
  EXPECT_NE(text.find(b + "le=\"0.0005\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find(b + "le=\"0.001\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find(b + "le=\"0.025\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find(b + "le=\"0.05\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find(b + "le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(
      text.find(
          "villager_request_duration_seconds_sum{environment=\"prod\",service=\"user\",release=\"sha256-a\"} "
          "0.0413\n"),
      std::string::npos);
  EXPECT_NE(text.find("release=\"we\\\"ird\\\\re\\nlease\",le=\"30\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("release=\"we\\\"ird\\\\re\\nlease\",le=\"60\"} 1\n"), std::string::npos);
  EXPECT_NE(
      text.find("villager_up{environment=\"prod\",service=\"user\",kind=\"slot\",release=\"sha256-a\"} 0\n"),
      std::string::npos);
  EXPECT_NE(
      text.find("villager_restarts_total{environment=\"prod\",service=\"user\",release=\"sha256-a\"} 3\n"),
      std::string::npos);
  EXPECT_NE(text.find("villager_alarm_firing{environment=\"prod\",service=\"user\",alarm=\"5xx\",severity="
                      "\"critical\"} 1\n"),
            std::string::npos);
}

TEST(Prometheus, PromtoolAcceptsTheOutput) {
  TempDir dir;
  std::string path = (dir / "metrics.txt").string();
  std::ofstream(path) << write_prometheus(sample_exposition());
  // promtool reads the exposition on stdin and exits non-zero on a format error (lint problems such as
  // missing units are reported but do not fail it).
  std::ifstream in(path);
  std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  RunOptions opts;
  opts.stdin_data = body;
  auto r = run_process({"promtool", "check", "metrics"}, opts);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->exit_code, 0) << r->out << r->err;
  // And the check can fail: a broken line is rejected.
  opts.stdin_data = body + "villager_requests_total{environment=\"x} 1\n";
  auto bad = run_process({"promtool", "check", "metrics"}, opts);
  ASSERT_TRUE(bad);
  EXPECT_NE(bad->exit_code, 0);
}

}  // namespace
}  // namespace villager::monitor
