#include "store/env_lock.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "testutil/temp_dir.h"

namespace villager::store {
namespace {

TEST(EnvironmentLock, ASecondChangeIsRefusedNamingTheHolderUntilTheFirstEnds) {
  TempDir dir;
  {
    auto first = lock_environment(dir.path(), "production", "deploy by alice");
    ASSERT_TRUE(first) << first.error().message;
    auto second = lock_environment(dir.path(), "production", "rollback by bob");
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().code, Code::kFailedPrecondition);
    const std::string& m = second.error().message;
    EXPECT_NE(m.find("production is busy: deploy by alice (pid " + std::to_string(::getpid())),
              std::string::npos)
        << m;
    // Other environments are not held up.
    EXPECT_TRUE(lock_environment(dir.path(), "explorer", "deploy by bob"));
  }
  auto again = lock_environment(dir.path(), "production", "rollback by bob");
  EXPECT_TRUE(again) << again.error().message;
}

}  // namespace
}  // namespace villager::store
