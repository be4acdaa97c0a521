#include "notify/alert.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "notify/notifier.h"
#include "testutil/fake_clock.h"
#include "testutil/temp_dir.h"
#include "testutil/test_processes.h"

namespace villager::notify {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using testing::eventually;
using testing::read_file;

Alert sample_alert(std::string state = "firing") {
  Alert a;
  a.alarm = "5xx";
  a.environment = "production";
  a.service = "user";
  a.release = "v1.2.4";
  a.metric = "error_rate";
  a.severity = "critical";
  a.state = std::move(state);
  a.value = 0.2;
  a.threshold = 0.01;
  a.starts_at = from_unix_millis(1'790'000'000'000);
  a.at = a.starts_at;
  return a;
}

// A [[notify]] entry that takes alerts.
config::NotifyConfig alerts_to(std::string type, std::string url, std::vector<std::string> command = {},
                               std::string path = "") {
  config::NotifyConfig c;
  c.type = config::parse_channel_type(type).value();
  c.url = std::move(url);
  c.command = std::move(command);
  c.path = std::move(path);
  c.events = {"alert"};
  return c;
}

std::vector<config::NotifyConfig> one(config::NotifyConfig c) {
  return {std::move(c)};
}

NotifierOptions fast_retries() {
  NotifierOptions o;
  o.max_attempts = 5;
  o.first_backoff = 10ms;
  o.max_backoff = 50ms;
  return o;
}

TEST(Alert, TextAndJsonCarryEveryField) {
  Alert a = sample_alert();
  EXPECT_EQ(a.text(),
            ":rotating_light: [FIRING] 5xx on production/user (release v1.2.4): error_rate 0.2 > 0.01 "
            "[critical]");
  json j = json::parse(a.to_json());
  for (const char* k : {"alarm", "environment", "service", "release", "value", "threshold", "state", "text"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_EQ(j["state"], "firing");
  EXPECT_DOUBLE_EQ(j["value"].get<double>(), 0.2);
}

TEST(WebhookChannel, RealReceiverGetsTheJsonAfterRetries) {
  TempDir dir;
  std::ofstream(dir / "statuses") << "500\n503\n";  // two failures, then accepted
  int port = 0;
  auto receiver = testing::start_receiver(dir.path().string(), &port);
  ASSERT_NE(port, 0) << read_file((dir / "receiver.log").string());
  FakeClock clock;
  Notifier d(one(alerts_to("webhook", "http://127.0.0.1:" + std::to_string(port) + "/hook")), fast_retries(),
             clock);
  d.publish(sample_alert());
  ASSERT_TRUE(d.flush(30s));
  EXPECT_EQ(d.stats().delivered, 1u);
  EXPECT_EQ(d.stats().retries, 2u);
  std::string posts = read_file((dir / "posts.jsonl").string());
  json j = json::parse(posts.substr(0, posts.find('\n')));
  EXPECT_EQ(j["alarm"], "5xx");
  EXPECT_EQ(j["environment"], "production");
  EXPECT_EQ(j["release"], "v1.2.4");
  EXPECT_NE(j["text"].get<std::string>().find("[FIRING]"), std::string::npos);
}

TEST(AlertDelivery, DeadChannelNeitherBlocksNotifyNorOtherChannels) {
  TempDir dir;
  FakeClock clock;
  // Nothing listens on port 1: every attempt fails at once and is retried, then given up.
  std::vector<config::NotifyConfig> chans = {alerts_to("webhook", "http://127.0.0.1:1/hook"),
                                             alerts_to("file", "", {}, (dir / "alerts.jsonl").string())};
  NotifierOptions o = fast_retries();
  o.max_attempts = 3;
  Notifier d(std::move(chans), o, clock);
  for (int i = 0; i < 3; ++i) d.publish(sample_alert());
  ASSERT_TRUE(eventually([&] { return d.stats().delivered == 3; }, 30s));
  ASSERT_TRUE(d.flush(30s));
  EXPECT_EQ(d.stats().gave_up, 3u);
  std::string lines = read_file((dir / "alerts.jsonl").string());
  EXPECT_EQ(std::count(lines.begin(), lines.end(), '\n'), 3);
}

TEST(AlertDelivery, FullQueueDropsTheOldest) {
  FakeClock clock;
  NotifierOptions o;
  o.max_queue = 2;
  o.first_backoff = 10min;  // the first delivery fails and waits; the queue fills behind it
  o.max_attempts = 2;
  Notifier d(one(alerts_to("webhook", "http://127.0.0.1:1/hook")), o, clock);
  d.publish(sample_alert());
  ASSERT_TRUE(eventually([&] { return d.stats().retries == 1; }, 30s));
  // The first is in its backoff, not queued: of four more, two fit and two push older ones out.
  for (int i = 0; i < 4; ++i) d.publish(sample_alert());
  EXPECT_EQ(d.stats().dropped, 2u);
  d.finish(0ms);
}

TEST(CommandChannel, RunsTheProgramWithTheAlertInItsEnvironment) {
  TempDir dir;
  std::string out = (dir / "out.txt").string();
  FakeClock clock;
  config::NotifyConfig c = alerts_to("command", "",
                                     {"sh", "-c",
                                      "echo \"$VILLAGER_ALERT_ALARM $VILLAGER_ALERT_STATE "
                                      "$VILLAGER_ALERT_SERVICE $VILLAGER_ALERT_THRESHOLD\" > " +
                                          out});
  Notifier d(one(c), fast_retries(), clock);
  d.publish(sample_alert("resolved"));
  ASSERT_TRUE(d.flush(30s));
  EXPECT_EQ(read_file(out), "5xx resolved user 0.01\n");
}

TEST(CommandChannel, NonZeroExitIsRetried) {
  FakeClock clock;
  NotifierOptions o = fast_retries();
  o.max_attempts = 2;
  Notifier d(one(alerts_to("command", "", {"false"})), o, clock);
  d.publish(sample_alert());
  ASSERT_TRUE(eventually([&] { return d.stats().gave_up == 1; }, 30s));
  EXPECT_EQ(d.stats().retries, 1u);
  EXPECT_EQ(d.stats().delivered, 0u);
}

TEST(Alertmanager, RealAlertmanagerListsTheAlertUntilResolved) {
  TempDir dir;
  std::ofstream(dir / "am.yml") << "route:\n  receiver: none\n  group_wait: 1s\nreceivers:\n  - name: none\n";
  int port = testing::free_port();
  std::string base = "http://127.0.0.1:" + std::to_string(port);
  auto am =
      testing::spawn({"prometheus-alertmanager", "--config.file=" + (dir / "am.yml").string(),
                      "--storage.path=" + (dir / "data").string(),
                      "--web.listen-address=127.0.0.1:" + std::to_string(port), "--cluster.listen-address="},
                     (dir / "am.log").string());
  ASSERT_TRUE(eventually([&] {
    auto r = testing::http_get(base + "/-/ready");
    return r && r->status == 200;
  })) << read_file((dir / "am.log").string());

  FakeClock clock;  // starts in 2026; the alert's startsAt/endsAt follow it
  clock.advance(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now() - clock.now()));
  Alert a = sample_alert();
  a.starts_at = a.at = clock.now();
  Notifier d(one(alerts_to("alertmanager", base)), fast_retries(), clock);
  d.publish(a);
  ASSERT_TRUE(d.flush(30s));
  ASSERT_EQ(d.stats().delivered, 1u);

  json listed;
  ASSERT_TRUE(eventually([&] {
    auto r = testing::http_get(base + "/api/v2/alerts");
    if (!r || r->status != 200) return false;
    listed = json::parse(r->body, nullptr, false);
    return listed.is_array() && !listed.empty();
  })) << read_file((dir / "am.log").string());
  const json& got = listed[0];
  EXPECT_EQ(got["labels"]["alertname"], "5xx");
  EXPECT_EQ(got["labels"]["environment"], "production");
  EXPECT_EQ(got["labels"]["service"], "user");
  EXPECT_EQ(got["labels"]["release"], "v1.2.4");
  EXPECT_EQ(got["labels"]["severity"], "critical");
  EXPECT_EQ(got["status"]["state"], "active");
  // endsAt lies ahead (the hold), so Alertmanager does not resolve it on its own.
  auto ends = parse_rfc3339(got["endsAt"].get<std::string>());
  ASSERT_TRUE(ends) << got.dump();
  EXPECT_GT(*ends, std::chrono::system_clock::now() + 60s);

  d.publish(sample_alert("resolved"));
  ASSERT_TRUE(d.flush(30s));
  EXPECT_TRUE(eventually([&] {
    auto r = testing::http_get(base + "/api/v2/alerts?active=true");
    if (!r || r->status != 200) return false;
    json j = json::parse(r->body, nullptr, false);
    return j.is_array() && j.empty();
  }));
}

}  // namespace
}  // namespace villager::notify
