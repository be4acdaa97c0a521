#pragma once
// The state store: one SQLite database, <state_dir>/state.db, in WAL mode. This is the module's front
// header: it pulls in every table's typed functions and the audit log.
//
//   auto st = store::Store::open(".villager");          // creates the dir (0700) and db, migrates
//   store::upsert_release(**st, release);
//   store::append_audit(**st, {actor, "deploy.start", "production/user", "{}"});
//
// A Store is one connection: use it from one thread at a time. Several processes (CLI, agent) may open
// the same state dir at once; writers wait for each other up to kBusyTimeout.

#include <chrono>
#include <filesystem>
#include <memory>

#include "base/clock.h"
#include "base/error.h"
#include "store/abort_requests.h"
#include "store/audit.h"
#include "store/db.h"
#include "store/deployments.h"
#include "store/known_good.h"
#include "store/monitor_events.h"
#include "store/releases.h"
#include "store/slots.h"

namespace villager::store {

// How long a write waits for another process's write transaction before failing with Unavailable.
inline constexpr std::chrono::milliseconds kBusyTimeout{5000};
inline constexpr const char* kStateDbName = "state.db";

struct OpenOptions {
  // Where created_at/updated_at/ts come from when the caller does not give one (tests: FakeClock).
  Clock* clock = nullptr;  // nullptr = real_clock()
  // When false, a missing state dir or state.db is NotFound instead of being created (read-only
  // commands such as `villager audit verify` must not conjure an empty, "valid" store).
  bool create_if_missing = true;
};

class Store {
 public:
  // Opens <state_dir>/state.db, creating the directory (mode 0700) and the file (0600) if allowed, sets
  // WAL + synchronous=FULL + busy_timeout + foreign keys, and applies pending migrations. Fails with
  // FailedPrecondition if the database was written by a newer villager.
  static Result<std::unique_ptr<Store>> open(const std::filesystem::path& state_dir,
                                             const OpenOptions& options = {});

  Db& db() { return db_; }
  Clock& clock() { return *clock_; }
  int64_t now_ms() { return unix_millis(clock_->now()); }
  const std::filesystem::path& state_dir() const { return state_dir_; }
  std::filesystem::path db_path() const { return state_dir_ / kStateDbName; }

  // Runs SQLite's own consistency check; Ok when it reports "ok".
  Status integrity_check();
  // state.db's bytes read through this connection (Db::image), for scanning the store for leaks
  // without opening the file outside SQLite.
  Result<std::string> image() { return db_.image(); }

 private:
  Store(Db db, std::filesystem::path dir, Clock* clock)
      : db_(std::move(db)), state_dir_(std::move(dir)), clock_(clock) {}
  Db db_;
  std::filesystem::path state_dir_;
  Clock* clock_;
};

}  // namespace villager::store
