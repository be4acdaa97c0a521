#include "store/store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "base/subprocess.h"
#include "store/migrations.h"
#include "store/test_helpers.h"

namespace villager::store {
namespace {

using testing::TestStore;

int mode_of(const std::filesystem::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 0777;
}

TEST(Store, OpenCreatesPrivateDirAndDbInWalMode) {
  TestStore s;
  ASSERT_TRUE(s.store);
  EXPECT_EQ(mode_of(s.dir / "state"), 0700);
  EXPECT_EQ(mode_of(s.dir / "state/state.db"), 0600);
  EXPECT_EQ(s->db().query_text("PRAGMA journal_mode").value_or(""), "wal");
  EXPECT_EQ(s->db().query_int("PRAGMA synchronous").value_or(-1), 2);  // FULL
  EXPECT_EQ(s->db().query_int("PRAGMA foreign_keys").value_or(-1), 1);
  EXPECT_EQ(s->db().query_int("PRAGMA busy_timeout").value_or(-1), kBusyTimeout.count());
  EXPECT_TRUE(s->integrity_check().ok());
}

TEST(Store, MigrationsApplyOnceAndReopenIsANoOp) {
  TestStore s;
  ASSERT_TRUE(s.store);
  EXPECT_EQ(schema_version(s->db()).value_or(-1), latest_schema_version());
  auto applied = s->db().query_int("SELECT count(*) FROM schema_migrations");
  EXPECT_EQ(applied.value_or(-1), static_cast<int64_t>(migrations().size()));
  auto first_applied_at = s->db().query_int("SELECT max(applied_at) FROM schema_migrations").value_or(-1);

  s.clock.advance(std::chrono::hours(1));
  s.reopen();
  ASSERT_TRUE(s.store);
  EXPECT_EQ(s->db().query_int("SELECT count(*) FROM schema_migrations").value_or(-1),
            static_cast<int64_t>(migrations().size()));
  EXPECT_EQ(s->db().query_int("SELECT max(applied_at) FROM schema_migrations").value_or(-2),
            first_applied_at);
}

TEST(Store, MigrationVersionsAreOneTwoThree) {
  int want = 1;
  for (const Migration& m : migrations()) EXPECT_EQ(m.version, want++) << m.name;
}

TEST(Store, DatabaseFromNewerVillagerIsAClearError) {
  TestStore s;
  ASSERT_TRUE(s.store);
  int newer = latest_schema_version() + 1;
  ASSERT_TRUE(
      s->db()
          .exec("INSERT INTO schema_migrations VALUES (" + std::to_string(newer) + ", 'from the future', 0)")
          .ok());
  s.store.reset();
  auto again = Store::open(s.dir / "state", OpenOptions{&s.clock, true});
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Code::kFailedPrecondition);
  EXPECT_NE(again.error().message.find("newer villager"), std::string::npos) << again.error().message;
  EXPECT_NE(again.error().message.find("schema version " + std::to_string(newer)), std::string::npos);
}

TEST(Store, OpenWithoutCreateRefusesMissingState) {
  TempDir dir;
  auto s = Store::open(dir / "nothing", OpenOptions{nullptr, false});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Code::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(dir / "nothing"));
}

TEST(Store, ExistingDirectoryKeepsItsMode) {
  TempDir dir;
  std::filesystem::create_directory(dir / "shared");
  std::filesystem::permissions(dir / "shared", std::filesystem::perms(0755));
  auto s = Store::open(dir / "shared");
  ASSERT_TRUE(s);
  EXPECT_EQ(mode_of(dir / "shared"), 0755);
}

// Another process's last connection closing: SQLite then takes an exclusive lock on state.db if it can,
// checkpoints, and deletes the -wal file. It can only when no connection in this process still holds
// its shared lock on the file.
void close_last_connection_elsewhere(const std::filesystem::path& db) {
  auto r = run_process({"python3", "-c",
                        "import sqlite3, sys\n"
                        "c = sqlite3.connect(sys.argv[1])\n"
                        "c.execute('SELECT count(*) FROM sqlite_master').fetchall()\n"
                        "c.close()\n",
                        db.string()});
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->exit_code, 0) << r->err;
}

// The plaintext scan reads state.db in a process that has the store open. Opening and closing the file
// there drops every POSIX lock the process holds on it, and the next process to close its connection
// deletes the WAL under the open store (reads then fail "disk I/O error", SHORT_READ). image() reads
// the same bytes through SQLite and leaves the locks alone.
TEST(Store, ImageReadsCommittedRowsWithoutDroppingTheOpenStoresLocks) {
  TestStore s;
  ASSERT_TRUE(s.store);
  ASSERT_TRUE(s->db().exec("CREATE TABLE probe(v TEXT); INSERT INTO probe VALUES('canary-7f3a91')").ok());
  const auto db = s->db_path();
  const auto wal = db.string() + "-wal";
  {
    auto other = Store::open(s->state_dir(), OpenOptions{&s.clock, false});
    ASSERT_TRUE(other) << other.error().message;
    auto bytes = (*other)->image();
    ASSERT_TRUE(bytes) << bytes.error().message;
    EXPECT_NE(bytes->find("canary-7f3a91"), std::string::npos) << "a committed row still in the WAL";
  }
  close_last_connection_elsewhere(db);
  EXPECT_TRUE(std::filesystem::exists(wal)) << "the store's shared lock was lost: the WAL went";
  EXPECT_EQ(s->db().query_text("SELECT v FROM probe").value_or("?"), "canary-7f3a91");

  // The way it used to be read, for contrast: after a plain open and close the lock is gone.
  { std::ifstream(db, std::ios::binary).get(); }
  close_last_connection_elsewhere(db);
  EXPECT_FALSE(std::filesystem::exists(wal)) << "SQLite kept the WAL although this process lost its lock";
}

}  // namespace
}  // namespace villager::store
