#include "notify/notifier.h"

#include <gtest/gtest.h>

#include <functional>
#include <mutex>

#include "notify/channel.h"

namespace villager::notify {
namespace {

config::NotifyConfig channel(std::string name, std::vector<std::string> events = {},
                             std::vector<std::string> envs = {}) {
  config::NotifyConfig c;
  c.type = config::ChannelType::kFile;
  c.path = std::move(name);
  c.events = std::move(events);
  c.environments = std::move(envs);
  c.timeout = std::chrono::milliseconds(5000);
  return c;
}

PipelineEvent event(std::string_view kind, std::string env = "production", std::string service = "user") {
  PipelineEvent e;
  e.kind = std::string(kind);
  e.environment = std::move(env);
  e.service = std::move(service);
  return e;
}

using SendFn =
    std::function<Status(const config::NotifyConfig&, const PipelineEvent&, const std::atomic<bool>* abort)>;

// A channel whose send is the test's function.
class FnChannel : public Channel {
 public:
  FnChannel(config::NotifyConfig c, SendFn fn) : c_(std::move(c)), fn_(std::move(fn)) {}
  std::string name() const override { return channel_name(c_); }
  Status send(const Message& m, SystemTime, const std::atomic<bool>* abort) override {
    return fn_(c_, std::get<PipelineEvent>(m), abort);
  }

 private:
  config::NotifyConfig c_;
  SendFn fn_;
};

std::vector<Notifier::Route> routes(std::vector<config::NotifyConfig> channels, SendFn fn) {
  std::vector<Notifier::Route> out;
  for (auto& c : channels) {
    auto ch = std::make_unique<FnChannel>(c, fn);
    out.emplace_back(std::move(c), std::move(ch));
  }
  return out;
}

// Records every attempt per channel path; fails while `fail` says so.
struct Recorder {
  std::mutex mu;
  std::vector<std::pair<std::string, std::string>> attempts;  // (channel path, kind)
  bool fail = false;

  SendFn fn() {
    return [this](const config::NotifyConfig& c, const PipelineEvent& e, const std::atomic<bool>*) -> Status {
      std::lock_guard lock(mu);
      attempts.emplace_back(c.path, e.kind);
      if (fail) return Unavailable("connection refused");
      return Ok();
    };
  }
  std::vector<std::string> kinds_for(const std::string& path) {
    std::lock_guard lock(mu);
    std::vector<std::string> out;
    for (auto& [p, k] : attempts)
      if (p == path) out.push_back(k);
    return out;
  }
};

NotifierOptions fast() {
  NotifierOptions o;
  o.first_backoff = std::chrono::milliseconds(1);
  o.max_backoff = std::chrono::milliseconds(2);
  return o;
}

TEST(ChannelWants, DefaultsToEveryKindAndEnvironment) {
  EXPECT_TRUE(channel_wants(channel("a"), event(kDeployed, "explorer")));
  EXPECT_TRUE(channel_wants(channel("a", {"deployed"}, {"explorer"}), event(kDeployed, "explorer")));
  EXPECT_FALSE(channel_wants(channel("a", {"rolled_back"}), event(kDeployed)));
  EXPECT_FALSE(channel_wants(channel("a", {}, {"production"}), event(kDeployed, "explorer")));
}

TEST(ChannelWants, AlertsOnlyToChannelsThatNameThemAndAlertmanagerOnlyAlerts) {
  Alert a;
  a.environment = "production";
  EXPECT_FALSE(channel_wants(channel("a"), a));
  EXPECT_TRUE(channel_wants(channel("a", {"alert"}), a));
  EXPECT_FALSE(channel_wants(channel("a", {"alert"}, {"explorer"}), a));
  config::NotifyConfig am = channel("am", {"alert"});
  am.type = config::ChannelType::kAlertmanager;
  EXPECT_TRUE(channel_wants(am, a));
  am.events = {};
  EXPECT_FALSE(channel_wants(am, event(kDeployed)));
}

TEST(Notifier, RoutesEachEventToTheChannelsThatWantIt) {
  Recorder rec;
  {
    Notifier n(routes({channel("all"), channel("failures", {"gate_refused", "rolled_back"}),
                       channel("prod", {}, {"production"})},
                      rec.fn()),
               fast());
    n.publish(event(kDeployStarted, "explorer"));
    n.publish(event(kGateRefused, "production"));
    n.publish(event(kDeployed, "explorer"));
    n.finish(std::chrono::seconds(30));
    EXPECT_TRUE(n.failures().empty());
    EXPECT_EQ(n.delivered(), 5u);
  }
  EXPECT_EQ(rec.kinds_for("all"), (std::vector<std::string>{"deploy_started", "gate_refused", "deployed"}));
  EXPECT_EQ(rec.kinds_for("failures"), (std::vector<std::string>{"gate_refused"}));
  EXPECT_EQ(rec.kinds_for("prod"), (std::vector<std::string>{"gate_refused"}));
}

TEST(Notifier, KeepsThePublishedOrder) {
  Recorder rec;
  Notifier n(routes({channel("a")}, rec.fn()), fast());
  std::vector<std::string> sent;
  for (int i = 0; i < 50; ++i) {
    auto kind = event_kinds()[i % event_kinds().size()];
    sent.push_back(kind);
    n.publish(event(kind));
  }
  n.finish(std::chrono::seconds(30));
  EXPECT_EQ(rec.kinds_for("a"), sent);
}

TEST(Notifier, RetriesFailureKindsAndRecordsWhatWasNotDelivered) {
  Recorder rec;
  rec.fail = true;
  NotifierOptions o = fast();
  o.max_attempts = 3;
  Notifier n(routes({channel("a")}, rec.fn()), o);
  n.publish(event(kDeployed));    // not a failure kind: one attempt
  n.publish(event(kRolledBack));  // a failure kind: three attempts
  n.finish(std::chrono::seconds(30));
  EXPECT_EQ(rec.kinds_for("a"),
            (std::vector<std::string>{"deployed", "rolled_back", "rolled_back", "rolled_back"}));
  auto failures = n.failures();
  ASSERT_EQ(failures.size(), 2u);
  EXPECT_NE(failures[1].find("connection refused"), std::string::npos);
  EXPECT_EQ(n.delivered(), 0u);
}

TEST(Notifier, ARetryThatSucceedsIsDelivered) {
  std::atomic<int> calls{0};
  Notifier n(
      routes({channel("a")},
             [&](const config::NotifyConfig&, const PipelineEvent&, const std::atomic<bool>*) -> Status {
               return ++calls < 3 ? Status(Unavailable("down")) : Ok();
             }),
      fast());
  n.publish(event(kSmokeFailed));
  n.finish(std::chrono::seconds(30));
  EXPECT_EQ(calls.load(), 3);
  EXPECT_EQ(n.delivered(), 1u);
  EXPECT_TRUE(n.failures().empty());
}

// A channel that never answers: publish returns at once (queue bounded, overflow recorded) and finish
// gives up after its limit, aborting the send in flight.
TEST(Notifier, AStuckChannelNeverBlocksPublishAndFinishGivesUp) {
  std::atomic<bool> entered{false};
  NotifierOptions o = fast();
  o.max_queue = 4;
  Notifier n(routes({channel("stuck")},
                    [&](const config::NotifyConfig&, const PipelineEvent&,
                        const std::atomic<bool>* abort) -> Status {
                      entered = true;
                      while (!abort->load()) std::this_thread::yield();
                      return Timeout("aborted");
                    }),
             o);
  for (int i = 0; i < 10; ++i) n.publish(event(kDeployStarted));
  n.finish(std::chrono::milliseconds(50));
  auto failures = n.failures();
  // Up to one event in flight, four queued, the rest dropped: all ten accounted for.
  EXPECT_EQ(failures.size(), 10u);
  EXPECT_EQ(n.delivered(), 0u);
  n.publish(event(kDeployed));  // after finish: ignored, no crash
  EXPECT_EQ(n.failures().size(), 10u);
}

TEST(Notifier, NoChannelsFinishesAtOnce) {
  Notifier n(std::vector<config::NotifyConfig>{}, fast());
  n.publish(event(kDeployed));
  n.finish(std::chrono::seconds(30));
  EXPECT_EQ(n.exit_wait(), std::chrono::milliseconds(0));
  EXPECT_TRUE(n.failures().empty());
}

}  // namespace
}  // namespace villager::notify
