#include "base/subprocess.h"

#include <gtest/gtest.h>
#include <signal.h>

#include "base/fs.h"
#include "testutil/temp_dir.h"

namespace villager {

TEST(Subprocess, CapturesOutputAndExitCode) {
  auto r = run_process({"sh", "-c", "echo out; echo err >&2; exit 3"});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->out, "out\n");
  EXPECT_EQ(r->err, "err\n");
}

TEST(Subprocess, FeedsStdin) {
  RunOptions o;
  o.stdin_data = "hello";
  auto r = run_process({"cat"}, o);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->out, "hello");
}

TEST(Subprocess, TimeoutKillsTheProcess) {
  RunOptions o;
  o.timeout = std::chrono::milliseconds(200);
  auto r = run_process({"sleep", "30"}, o);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->timed_out);
}

TEST(Subprocess, SpawnReportsAMissingProgram) {
  auto r = spawn_process({"/nonexistent/program"}, {});
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("/nonexistent/program"), std::string::npos);
}

TEST(Subprocess, SpawnedProcessHasStartTimeAndCanBeStopped) {
  TempDir dir;
  SpawnOptions o;
  o.stdout_path = (dir / "out.log").string();
  auto pid = spawn_process({"sh", "-c", "echo started; exec sleep 30"}, o);
  ASSERT_TRUE(pid.has_value());
  EXPECT_TRUE(process_alive(*pid));
  EXPECT_TRUE(process_start_time(*pid).has_value());
  ::kill(*pid, SIGKILL);
  int status = 0;
  for (int i = 0; i < 100 && !reap_if_exited(*pid, &status); ++i) usleep(10'000);
  EXPECT_FALSE(process_alive(*pid));
}

}  // namespace villager
