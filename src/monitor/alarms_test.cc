#include "monitor/alarms.h"

#include <gtest/gtest.h>

#include "store/store.h"
#include "testutil/fake_clock.h"
#include "testutil/temp_dir.h"

namespace villager::monitor {
namespace {

using namespace std::chrono_literals;

// A source whose values the test sets.
class ScriptedSource : public MetricSource {
 public:
  std::map<std::string, std::optional<double>> values;  // by service
  std::optional<double> value(const std::string&, const std::string&, const std::string& service,
                              Millis) override {
    return values[service];
  }
};

config::AlarmConfig rule(std::string name, std::string metric, double threshold, int consecutive,
                         std::string comparison = "above") {
  config::AlarmConfig a;
  a.name = std::move(name);
  a.metric = std::move(metric);
  a.threshold = threshold;
  a.consecutive = consecutive;
  a.comparison = std::move(comparison);
  return a;
}

std::vector<std::string> states(const std::vector<AlarmTransition>& ts) {
  std::vector<std::string> out;
  for (const auto& t : ts) out.push_back(std::string(to_string(t.to)));
  return out;
}

TEST(AlarmEvaluator, OkPendingFiringResolvedOk) {
  FakeClock clock;
  ScriptedSource src;
  AlarmEvaluator ev({rule("5xx", "error_rate", 0.01, 2)}, "prod", {"user"}, src, clock);
  src.values["user"] = 0.0;
  EXPECT_TRUE(ev.evaluate().empty());
  src.values["user"] = 0.2;
  EXPECT_EQ(states(ev.evaluate()), std::vector<std::string>{"pending"});
  EXPECT_TRUE(ev.firing_critical("user").empty());
  EXPECT_EQ(states(ev.evaluate()), std::vector<std::string>{"firing"});
  EXPECT_EQ(ev.firing_critical("user"), std::vector<std::string>{"5xx"});
  EXPECT_TRUE(ev.evaluate().empty());  // still firing: no change
  src.values["user"] = 0.0;
  EXPECT_EQ(states(ev.evaluate()), std::vector<std::string>{"resolved"});
  EXPECT_EQ(states(ev.evaluate()), std::vector<std::string>{"ok"});
}

TEST(AlarmEvaluator, PendingFallsBackToOkWithoutEnoughConsecutiveBreaches) {
  FakeClock clock;
  ScriptedSource src;
  AlarmEvaluator ev({rule("5xx", "error_rate", 0.01, 3)}, "prod", {"user"}, src, clock);
  src.values["user"] = 0.5;
  ev.evaluate();
  ev.evaluate();
  src.values["user"] = 0.0;
  EXPECT_EQ(states(ev.evaluate()), std::vector<std::string>{"ok"});
  src.values["user"] = 0.5;
  ev.evaluate();
  ev.evaluate();
  EXPECT_EQ(ev.state("5xx", "user"), AlarmState::kPending);
  EXPECT_EQ(states(ev.evaluate()), std::vector<std::string>{"firing"});
}

TEST(AlarmEvaluator, ConsecutiveOneFiresInOneEvaluationThroughPending) {
  FakeClock clock;
  ScriptedSource src;
  AlarmEvaluator ev({rule("avail", "availability", 0.99, 1, "below")}, "prod", {"user", "admin"}, src, clock);
  src.values["user"] = 0.5;
  src.values["admin"] = 1.0;
  auto ts = ev.evaluate();
  EXPECT_EQ(states(ts), (std::vector<std::string>{"pending", "firing"}));
  EXPECT_EQ(ts[1].service, "user");
  EXPECT_EQ(ev.state("avail", "admin"), AlarmState::kOk);
}

TEST(AlarmEvaluator, NoDataIsNoBreachAndServiceFilterApplies) {
  FakeClock clock;
  ScriptedSource src;
  auto a = rule("p99", "p99", 250, 1);
  a.service = "admin";
  AlarmEvaluator ev({a}, "prod", {"user", "admin"}, src, clock);
  src.values["user"] = 9.0;  // not covered by the rule
  src.values["admin"] = std::nullopt;
  EXPECT_TRUE(ev.evaluate().empty());
  EXPECT_EQ(ev.gauges().size(), 1u);
}

TEST(StandardSource, ReadsWindowsFromTheRegistryAndRestarts) {
  FakeClock clock;
  MetricsRegistry reg(clock);
  RestartTracker restarts(clock);
  StandardSource src(reg, &restarts, [](const std::string&, const std::string&, Millis) { return 0.75; });
  EXPECT_FALSE(src.value("p99", "prod", "user", 1min).has_value());  // no requests yet
  EXPECT_EQ(src.value("errors_5xx", "prod", "user", 1min), 0.0);
  auto rec = reg.recorder("prod", "user");
  for (int i = 0; i < 99; ++i) rec->record("a", 200, 1000, 0, 0);
  rec->record("a", 500, 300'000, 0, 0);
  EXPECT_DOUBLE_EQ(*src.value("error_rate", "prod", "user", 1min), 0.01);
  EXPECT_DOUBLE_EQ(*src.value("errors_5xx", "prod", "user", 1min), 1);
  EXPECT_NEAR(*src.value("p50", "prod", "user", 1min), 1.0, 0.01);  // milliseconds
  EXPECT_NEAR(*src.value("p99", "prod", "user", 1min), 1.0, 0.01);
  restarts.note("prod", "user");
  clock.advance(2min);
  restarts.note("prod", "user");
  EXPECT_EQ(*src.value("restarts", "prod", "user", 1min), 1);
  EXPECT_EQ(*src.value("availability", "prod", "user", 1min), 0.75);
}

TEST(AlarmEvaluator, TransitionsAreStoredAsEvents) {
  FakeClock clock;
  TempDir dir;
  auto st = store::Store::open(dir / "state", {&clock, true});
  ASSERT_TRUE(st) << st.error().message;
  ScriptedSource src;
  auto a = rule("restarts", "restarts", 0, 1);
  a.severity = "critical";
  AlarmEvaluator ev({a}, "prod", {"user"}, src, clock);
  ev.set_release_lookup([](const std::string&) { return std::string("sha256-b"); });
  src.values["user"] = 2;
  ASSERT_TRUE(record_transitions(**st, ev.evaluate()).ok());
  src.values["user"] = 0;
  ASSERT_TRUE(record_transitions(**st, ev.evaluate()).ok());
  auto rows = store::list_alarm_events(**st, "prod", "user");
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ((*rows)[0].from_state, "ok");
  EXPECT_EQ((*rows)[1].to_state, "firing");
  EXPECT_EQ((*rows)[1].release, "sha256-b");
  EXPECT_EQ(*(*rows)[1].value, 2);
  EXPECT_EQ((*rows)[2].to_state, "resolved");
}

}  // namespace
}  // namespace villager::monitor
