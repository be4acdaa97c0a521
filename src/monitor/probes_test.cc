#include "monitor/probes.h"

#include <gtest/gtest.h>

#include <fstream>

#include "testutil/test_processes.h"
#include "store/store.h"
#include "testutil/fake_clock.h"
#include "testutil/temp_dir.h"

namespace villager::monitor {
namespace {

using namespace std::chrono_literals;

TEST(Prober, AvailabilityWindowsCountPublicProbesOnly) {
  FakeClock clock;
  std::map<std::string, bool> up = {{"public", true}, {"slot", false}};
  Prober p(clock, nullptr, 1s, [&](const ProbeTarget& t, Millis) {
    ProbeResult r;
    r.target = t;
    r.ok = up[t.kind];
    return r;
  });
  p.set_targets({{"prod", "user", "public", "", "http://x/", ""},
                 {"prod", "user", "slot", "sha256-a", "http://y/", ""}});
  EXPECT_FALSE(p.availability("prod", "user", 1min).has_value());
  for (int i = 0; i < 3; ++i) {
    p.probe_once();
    clock.advance(5s);
  }
  up["public"] = false;
  p.probe_once();
  EXPECT_DOUBLE_EQ(*p.availability("prod", "user", 1min), 0.75);
  EXPECT_DOUBLE_EQ(*p.availability("prod", "user", 1s), 0.0);
  auto g = p.gauges();
  ASSERT_EQ(g.size(), 2u);
  EXPECT_FALSE(g[1].up);
  EXPECT_EQ(g[1].release, "sha256-a");
}

TEST(ClassifyProbe, StatesFollowTheExpectation) {
  std::string d;
  ProbeTarget open{"prod", "user", "public", "", "http://x/", ""};
  EXPECT_EQ(classify_probe(open, 200, "", d), ProbeState::kUp);
  EXPECT_EQ(classify_probe(open, 404, "", d), ProbeState::kUp);  // any answer below 500 is alive
  EXPECT_EQ(classify_probe(open, 503, "", d), ProbeState::kDown);
  EXPECT_EQ(classify_probe(open, 0, "", d), ProbeState::kDown);
  ProbeTarget body = open;
  body.expect_body = "\"status\":\"ok\"";
  EXPECT_EQ(classify_probe(body, 200, "{\"status\":\"ok\"}", d), ProbeState::kUp);
  EXPECT_EQ(classify_probe(body, 200, "{}", d), ProbeState::kDown);
  EXPECT_EQ(classify_probe(body, 404, "", d), ProbeState::kDown);
  ProbeTarget set = open;
  set.expect_status = {200, 204};
  EXPECT_EQ(classify_probe(set, 204, "", d), ProbeState::kUp);
  EXPECT_EQ(classify_probe(set, 302, "", d), ProbeState::kDown);
}

TEST(ClassifyProbe, A401IsNeverDownAndSaysWhetherTheKeyWasSent) {
  std::string d;
  ProbeTarget t{"prod", "admin", "public", "", "http://x/info/health", "ok"};
  EXPECT_EQ(classify_probe(t, 401, "", d), ProbeState::kAuthFailed);
  EXPECT_NE(d.find("sent no key"), std::string::npos) << d;
  t.auth_header = "x-api-key";
  t.auth_value = "the-secret-value";
  EXPECT_EQ(classify_probe(t, 403, "", d), ProbeState::kAuthFailed);
  EXPECT_NE(d.find("refused its own key"), std::string::npos) << d;
  EXPECT_EQ(d.find("the-secret-value"), std::string::npos);
  t.pending = true;
  EXPECT_EQ(classify_probe(t, 503, "", d), ProbeState::kPending);
}

TEST(Prober, PendingProbesAreNeitherSamplesNorGauges) {
  FakeClock clock;
  Prober p(clock, nullptr, 1s, [&](const ProbeTarget& t, Millis) {
    ProbeResult r;
    r.target = t;
    r.state = t.pending ? ProbeState::kPending : ProbeState::kUp;
    r.ok = !t.pending;
    return r;
  });
  ProbeTarget t{"prod", "user", "public", "", "http://x/", ""};
  t.pending = true;
  p.set_targets({t});
  p.probe_once();
  EXPECT_FALSE(p.availability("prod", "user", 1min).has_value());
  EXPECT_TRUE(p.gauges().empty());
  t.pending = false;
  p.set_targets({t});
  p.probe_once();
  EXPECT_DOUBLE_EQ(*p.availability("prod", "user", 1min), 1.0);
}

TEST(Prober, RealHttpProbesAreStored) {
  TempDir dir;
  std::ofstream(dir / "metrics") << "{\"status\":\"ok\"}";
  int port = 0;
  auto server = testing::start_receiver(dir.path().string(), &port);
  ASSERT_NE(port, 0);
  FakeClock clock;
  auto st = store::Store::open(dir / "state", {&clock, true});
  ASSERT_TRUE(st);
  Prober p(clock, st->get(), 2s);
  std::string base = "http://127.0.0.1:" + std::to_string(port);
  p.set_targets({{"prod", "user", "public", "", base + "/info/health", "\"status\":\"ok\""},
                 {"prod", "user", "url", "", base + "/info/health", "\"status\":\"degraded\""},
                 {"prod", "user", "slot", "sha256-a", "http://127.0.0.1:1/info/health", ""}});
  auto results = p.probe_once();
  ASSERT_EQ(results.size(), 3u);
  EXPECT_TRUE(results[0].ok) << results[0].detail;
  EXPECT_EQ(results[0].status, 200);
  EXPECT_FALSE(results[1].ok);
  EXPECT_NE(results[1].detail.find("body lacks"), std::string::npos);
  EXPECT_FALSE(results[2].ok);
  auto a = store::probe_availability(**st, "prod", "user", "", 0);  // what users reach: not the slot
  ASSERT_TRUE(a);
  EXPECT_EQ(a->samples, 2);
  EXPECT_EQ(a->ok, 1);
  EXPECT_EQ(store::probe_availability(**st, "prod", "user", "slot", 0)->samples, 1);
}

}  // namespace
}  // namespace villager::monitor
