#include "monitor/synthetic.h"

#include <gtest/gtest.h>

#include "proxy/test_servers.h"

namespace villager::monitor {

namespace {
using proxy::testing::eventually;
using proxy::testing::TestUpstream;

SyntheticPlan plan_for(uint16_t port, size_t budget) {
  SyntheticPlan p;
  p.slot_url = "http://127.0.0.1:" + std::to_string(port);
  p.requests = {{"GET", "/info/health"}, {"HEAD", "/"}};
  p.rate = 1000;
  p.budget = budget;
  return p;
}
}  // namespace

TEST(SyntheticTraffic, SendsTheBudgetToTheSlotAndKeepsOneSampleEach) {
  TestUpstream slot("candidate");
  SyntheticTraffic t(plan_for(slot.port(), 7));
  ASSERT_TRUE(eventually([&] { return t.done(); }));
  EXPECT_EQ(t.sent(), 7u);
  EXPECT_EQ(slot.requests(), 7);  // what the slot itself counted
  auto samples = t.take();
  ASSERT_EQ(samples.size(), 7u);
  for (const auto& s : samples) EXPECT_EQ(s.status, 200);
  EXPECT_TRUE(t.take().empty());  // taken once
  auto by = t.sent_by_request();
  EXPECT_EQ(by["GET /info/health"], 4u);
  EXPECT_EQ(by["HEAD /"], 3u);
}

TEST(SyntheticTraffic, StopEndsItBeforeTheBudget) {
  TestUpstream slot("candidate");
  SyntheticPlan p = plan_for(slot.port(), 10'000);
  p.rate = 0.1;  // the first request at once, the next in 10 s
  SyntheticTraffic t(p);
  ASSERT_TRUE(eventually([&] { return t.sent() == 1; }));
  t.stop();
  EXPECT_TRUE(t.done());
  EXPECT_EQ(t.sent(), 1u);
  EXPECT_EQ(slot.requests(), 1);
}

TEST(SyntheticTraffic, SendsTheKeyOnlyOnProtectedPaths) {
  TestUpstream slot("candidate");
  SyntheticPlan p = plan_for(slot.port(), 1);
  p.requests = {{"GET", "/tokens/list?x=1"}};
  p.auth_header = "x-api-key";
  p.auth_value = Secret("k-123");
  p.protected_paths = {"/tokens"};
  {
    SyntheticTraffic t(p);
    ASSERT_TRUE(eventually([&] { return t.done(); }));
  }
  EXPECT_EQ(slot.last_headers()["x-api-key"], "k-123");
  p.requests = {{"GET", "/info/health"}};
  {
    SyntheticTraffic t(p);
    ASSERT_TRUE(eventually([&] { return t.done(); }));
  }
  EXPECT_EQ(slot.requests(), 2);
  EXPECT_EQ(slot.last_headers().count("x-api-key"), 0u);
}

TEST(SyntheticTraffic, AnUnreachableSlotIsA502Sample) {
  SyntheticTraffic t(plan_for(proxy::testing::unused_port(), 2));
  ASSERT_TRUE(eventually([&] { return t.done(); }));
  auto samples = t.take();
  ASSERT_EQ(samples.size(), 2u);
  EXPECT_EQ(samples[0].status, 502);
}

TEST(SyntheticTraffic, ProtectedPathsMatchExactlyOrBelow) {
  std::vector<std::string> p = {"/tokens", "/admin/"};
  EXPECT_TRUE(synthetic_path_protected(p, "/tokens"));
  EXPECT_TRUE(synthetic_path_protected(p, "/tokens/list?a=b"));
  EXPECT_TRUE(synthetic_path_protected(p, "/admin/x"));
  EXPECT_FALSE(synthetic_path_protected(p, "/tokensx"));
  EXPECT_FALSE(synthetic_path_protected(p, "/info/health"));
}

TEST(SyntheticTraffic, NoBudgetSendsNothing) {
  TestUpstream slot("candidate");
  SyntheticTraffic t(plan_for(slot.port(), 0));
  EXPECT_TRUE(t.done());
  EXPECT_EQ(t.sent(), 0u);
  EXPECT_EQ(slot.requests(), 0);
}

}  // namespace villager::monitor
