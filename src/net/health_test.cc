#include "net/health.h"

#include <gtest/gtest.h>

namespace villager::net {

TEST(Health, TwoHundredWithTheExpectedBodyIsHealthy) {
  EXPECT_EQ(health_failure(200, R"({"status":"ok"})", R"("status":"ok")"), "");
  EXPECT_EQ(health_failure(200, "anything", ""), "");
}

TEST(Health, SaysWhyNot) {
  EXPECT_EQ(health_failure(503, "down", ""), "status 503");
  EXPECT_EQ(health_failure(204, "", ""), "status 204");
  EXPECT_EQ(health_failure(200, R"({"status":"starting"})", R"("status":"ok")"),
            R"(body lacks "status":"ok")");
}

}  // namespace villager::net
