#include "store/store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>

#include "store/migrations.h"

namespace villager::store {

namespace fs = std::filesystem;

namespace {

// Creates the directory with mode 0700 if it does not exist. An existing directory keeps its mode: a
// configured state dir may be shared with other things, and chmod-ing it would surprise its owner.
Status make_state_dir(const fs::path& dir) {
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return Ok();
  fs::create_directories(dir, ec);
  if (ec) return Internal("creating state directory " + dir.string() + ": " + ec.message());
  fs::permissions(dir, fs::perms::owner_all, ec);
  if (ec) return Internal("setting mode 0700 on " + dir.string() + ": " + ec.message());
  return Ok();
}

// Creates an empty state.db with mode 0600 before SQLite opens it; SQLite gives the -wal and -shm files
// the same mode as the database, so the whole store stays private to its owner.
Status precreate_private(const fs::path& file) {
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return Ok();
    return Internal("creating " + file.string() + ": " + std::strerror(errno));
  }
  ::close(fd);
  return Ok();
}

}  // namespace

Result<std::unique_ptr<Store>> Store::open(const fs::path& state_dir, const OpenOptions& options) {
  fs::path file = state_dir / kStateDbName;
  std::string ctx = "opening state store " + file.string();
  std::error_code ec;
  if (!options.create_if_missing && !fs::exists(file, ec)) {
    return NotFound(ctx + ": no such file (nothing has been recorded in this state dir yet)");
  }
  if (options.create_if_missing) {
    Status s = make_state_dir(state_dir);
    if (!s.ok()) return s.error().context(ctx);
    s = precreate_private(file);
    if (!s.ok()) return s.error().context(ctx);
  }

  Result<Db> db = Db::open(file, options.create_if_missing);
  if (!db) return db.error().context(ctx);

  // busy_timeout first, so the pragmas below and every later write wait for other writers.
  std::string setup = "PRAGMA busy_timeout = " + std::to_string(kBusyTimeout.count());
  Status s = db->exec(setup);
  if (!s.ok()) return s.error().context(ctx);
  // WAL: readers never block the writer, and a crash mid-write leaves the last committed state intact
  // (uncommitted frames in the -wal file are ignored on the next open).
  // Switching a new database to WAL needs an exclusive lock, and SQLite answers "locked" at once here
  // rather than calling the busy handler; two processes creating the store together retry until the
  // busy timeout.
  Result<std::string> mode = db->query_text("PRAGMA journal_mode = WAL");
  for (auto deadline = std::chrono::steady_clock::now() + kBusyTimeout;
       !mode && mode.error().code == Code::kUnavailable && std::chrono::steady_clock::now() < deadline;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    mode = db->query_text("PRAGMA journal_mode = WAL");
  }
  if (!mode) return mode.error().context(ctx);
  if (*mode != "wal") return Internal(ctx + ": journal_mode is '" + *mode + "', expected 'wal'");
  // FULL, not NORMAL: NORMAL is already safe against a process crash, but after a power loss it may drop
  // the last committed transactions, and a dropped tail of the audit log cannot be told apart from one
  // that was never written. FULL fsyncs the WAL on every commit; we commit tens of rows per deployment.
  // foreign_keys: deployment_steps must belong to a deployment.
  s = db->exec("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON");
  if (!s.ok()) return s.error().context(ctx);

  Clock* clock = options.clock ? options.clock : &real_clock();
  s = migrate(*db, unix_millis(clock->now()));
  if (!s.ok()) return s.error().context(ctx);
  return std::unique_ptr<Store>(new Store(std::move(*db), state_dir, clock));
}

Status Store::integrity_check() {
  Result<std::string> r = db_.query_text("PRAGMA integrity_check");
  if (!r) return r.error().context("integrity check");
  if (*r != "ok") return Internal("integrity check of " + db_path().string() + ": " + *r);
  return Ok();
}

}  // namespace villager::store
