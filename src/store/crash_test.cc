// kill -9 in the middle of writes: every time, the store must open, pass SQLite's integrity check, verify
// its audit chain, and show each transaction whole or not at all.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <random>
#include <thread>

#include "store/store.h"
#include "testutil/temp_dir.h"

namespace villager::store {
namespace {

constexpr int kRounds = 20;
// Upper bound of the random delay between "the child has committed once" and SIGKILL.
constexpr int kMaxKillDelayMs = 40;
// A child that is never killed stops by itself after this many transactions.
constexpr int kChildMaxWrites = 100000;

// The child: one transaction per loop holding a deployment, a step and the audit event naming both, plus
// a loose audit append outside any transaction. Signals the parent through `ready` after the first commit.
[[noreturn]] void write_forever(const std::filesystem::path& state, int ready) {
  auto st = Store::open(state);
  if (!st) ::_exit(10);
  Store& s = **st;
  for (int i = 0; i < kChildMaxWrites; ++i) {
    {
      auto tx = Transaction::begin(s.db());
      if (!tx) ::_exit(11);
      Deployment d;
      d.environment = "production";
      d.service = "user";
      d.version = "v" + std::to_string(i);
      d.digest = "sha256:" + std::string(64, 'a');
      d.actor = "crash-test";
      auto id = create_deployment(s, d);
      if (!id) ::_exit(12);
      if (!add_step(s, *id, "deploy")) ::_exit(13);
      if (!finish_deployment(s, *id, DeploymentStatus::kSucceeded)) ::_exit(14);
      if (!append_audit(s, {"crash-test", "deploy.finished", "deployment/" + std::to_string(*id), "{}"}))
        ::_exit(15);
      if (!tx->commit().ok()) ::_exit(16);
    }
    if (!append_audit(
            s, {"crash-test", "loose", std::to_string(i), R"({"pad":")" + std::string(200, 'x') + "\"}"}))
      ::_exit(17);
    if (i == 0) (void)::write(ready, "r", 1);
  }
  ::_exit(0);
}

TEST(CrashSafety, KillNineDuringWritesLeavesAStoreThatOpensAndVerifies) {
  TempDir dir;
  const auto state = dir / "state";
  std::random_device rd;
  unsigned seed = rd();
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> delay_ms(0, kMaxKillDelayMs);
  SCOPED_TRACE("seed " + std::to_string(seed));

  int64_t last_events = 0;
  int grew = 0;
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(ready[0]);
      write_forever(state, ready[1]);
    }
    ::close(ready[1]);
    char b = 0;
    ssize_t n = ::read(ready[0], &b, 1);
    ::close(ready[0]);
    if (n == 1) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    ::kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the child ended on its own (status " << status
                                     << ") before the kill";

    auto st = Store::open(state);
    ASSERT_TRUE(st) << st.error().message;
    Store& s = **st;
    Status integrity = s.integrity_check();
    ASSERT_TRUE(integrity.ok()) << integrity.error().message;
    auto v = verify_audit(s);
    ASSERT_TRUE(v) << v.error().message;
    ASSERT_TRUE(v->ok) << v->message;
    // Atomicity: every deployment has its audit event and its step, and no event names a lost deployment.
    auto orphans = s.db().query_int(
        "SELECT (SELECT count(*) FROM deployments d WHERE NOT EXISTS (SELECT 1 FROM audit_log a WHERE "
        "a.subject = "
        "'deployment/' || d.id) OR NOT EXISTS (SELECT 1 FROM deployment_steps t WHERE t.deployment_id = "
        "d.id) "
        "OR d.status != 'succeeded') + (SELECT count(*) FROM audit_log a WHERE a.kind = 'deploy.finished' "
        "AND "
        "NOT EXISTS (SELECT 1 FROM deployments d WHERE 'deployment/' || d.id = a.subject))");
    ASSERT_TRUE(orphans);
    EXPECT_EQ(*orphans, 0);
    if (v->events > last_events) ++grew;
    last_events = v->events;
  }
  // Each child committed at least once before its kill, so every round added events.
  EXPECT_EQ(grew, kRounds);
  std::cout << "[ info ] " << kRounds << " kills, " << last_events << " audit events survived, seed " << seed
            << "\n";
}

}  // namespace
}  // namespace villager::store
