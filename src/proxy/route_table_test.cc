#include "proxy/route_table.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>

namespace villager::proxy {
namespace {

RouteTable two(int wa, int wb, std::string cookie = "") {
  return RouteTable{{Upstream{"v1", "127.0.0.1", 9001, wa}, Upstream{"v2", "127.0.0.1", 9002, wb}},
                    std::move(cookie)};
}

TEST(RouteTable, ValidateCollectsEveryProblem) {
  RouteTable t{{Upstream{"", "", 0, -1}, Upstream{"v 2", "h", 1, 1}}, "bad;name"};
  Status s = validate(t);
  ASSERT_FALSE(s.ok());
  const std::string& m = s.error().message;
  EXPECT_NE(m.find("upstream 0: empty release_id"), std::string::npos) << m;
  EXPECT_NE(m.find("upstream 0: empty host"), std::string::npos) << m;
  EXPECT_NE(m.find("upstream 0: port 0"), std::string::npos) << m;
  EXPECT_NE(m.find("negative weight -1"), std::string::npos) << m;
  EXPECT_NE(m.find("'v 2' is not a token"), std::string::npos) << m;
  EXPECT_NE(m.find("sticky_cookie 'bad;name'"), std::string::npos) << m;
  EXPECT_TRUE(validate(two(1, 0, "villager_release")).ok());
}

TEST(RouteTable, ChoiceIsDeterministicGivenTheRandomSource) {
  RouteTable t = two(1, 1);
  FastRandom a(42), b(42);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(choose(t, "", a.next()).upstream, choose(t, "", b.next()).upstream);
}

TEST(RouteTable, WeightsSplitWithinBinomialTolerance) {
  RouteTable t = two(1, 3);
  FastRandom rng(7);
  const int n = 20000;
  int v2 = 0;
  for (int i = 0; i < n; ++i) v2 += choose(t, "", rng.next()).upstream->release_id == "v2";
  // p = 3/4; five standard deviations of Binomial(n, p).
  const double p = 0.75, mean = n * p, sd = std::sqrt(n * p * (1 - p));
  EXPECT_NEAR(v2, mean, 5 * sd);
}

TEST(RouteTable, ZeroWeightIsNeverChosenAndAllZeroMeansNoRoute) {
  RouteTable t = two(0, 5);
  FastRandom rng(1);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(choose(t, "", rng.next()).upstream->release_id, "v2");
  EXPECT_EQ(choose(two(0, 0), "", 1).upstream, nullptr);
  EXPECT_EQ(choose(RouteTable{}, "", 1).upstream, nullptr);
}

TEST(RouteTable, StickyCookiePinsToARoutableRelease) {
  RouteTable t = two(1, 1000, "rel");
  for (uint64_t r = 0; r < 50; ++r) {
    RouteChoice c = choose(t, "a=b; rel=v1; c=d", r);
    ASSERT_NE(c.upstream, nullptr);
    EXPECT_EQ(c.upstream->release_id, "v1");
    EXPECT_FALSE(c.set_cookie);
  }
  // No cookie: chosen by weight, and the response must set it.
  RouteChoice fresh = choose(t, "", 999);
  EXPECT_TRUE(fresh.set_cookie);
  // A cookie naming a release gone from the table (or drained to weight 0) is re-chosen and re-set.
  RouteChoice gone = choose(t, "rel=v9", 5);
  EXPECT_TRUE(gone.set_cookie);
  RouteTable without_v1 = two(0, 1, "rel");  // choose() returns a pointer into the table: keep it alive
  RouteChoice drained = choose(without_v1, "rel=v1", 5);
  EXPECT_EQ(drained.upstream->release_id, "v2");
  EXPECT_TRUE(drained.set_cookie);
  // Sticky off: cookies are ignored and never set.
  RouteTable plain = two(1, 1);
  RouteChoice off = choose(plain, "rel=v1", 1);
  EXPECT_FALSE(off.set_cookie);
}

TEST(RouteTable, FindCookieParsesTheHeader) {
  EXPECT_EQ(find_cookie("a=1; rel=v2; b=3", "rel"), "v2");
  EXPECT_EQ(find_cookie("rel=\"v3\"", "rel"), "v3");
  EXPECT_EQ(find_cookie("xrel=v1;rel = v4 ", "rel"), "v4");
  EXPECT_EQ(find_cookie("a=1; b", "rel"), "");
  EXPECT_EQ(find_cookie("", "rel"), "");
}

TEST(RouteTable, StoreSwapsAtomicallyAndOldSnapshotsStayValid) {
  Routes routes(two(1, 0));
  auto before = routes.snapshot();
  uint64_t v = routes.version();
  ASSERT_TRUE(routes.store(two(0, 1)).ok());
  EXPECT_GT(routes.version(), v);
  EXPECT_EQ(before->upstreams[0].weight, 1);  // a request holding the old table keeps it whole
  EXPECT_EQ(routes.snapshot()->upstreams[1].weight, 1);
  // An invalid table is refused and the current one stays.
  EXPECT_FALSE(routes.store(RouteTable{{Upstream{"", "h", 1, 1}}, ""}).ok());
  EXPECT_EQ(routes.snapshot()->upstreams[1].weight, 1);
}

}  // namespace
}  // namespace villager::proxy
