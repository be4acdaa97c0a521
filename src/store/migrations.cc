#include "store/migrations.h"

#include <string>

namespace villager::store {

namespace {

// Version 1: the foundation tables. Times are unix milliseconds (UTC); digests are "sha256:<hex>";
// JSON columns are checked with json_valid so a reader can always parse them.
constexpr std::string_view kV1 = R"sql(
-- A packaged, content-addressed build of one service.
CREATE TABLE releases (
  service     TEXT NOT NULL,
  digest      TEXT NOT NULL CHECK (digest GLOB 'sha256:*'),
  version     TEXT NOT NULL,
  git_commit  TEXT NOT NULL DEFAULT '',
  dirty       INTEGER NOT NULL DEFAULT 0 CHECK (dirty IN (0, 1)),
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (service, digest)
);

-- One deploy or rollback of one service into one environment.
CREATE TABLE deployments (
  id           INTEGER PRIMARY KEY,
  environment  TEXT NOT NULL,
  service      TEXT NOT NULL,
  kind         TEXT NOT NULL CHECK (kind IN ('deploy', 'rollback')),
  version      TEXT NOT NULL,
  digest       TEXT NOT NULL CHECK (digest GLOB 'sha256:*'),
  from_digest  TEXT NOT NULL DEFAULT '',            -- '' when nothing was serving before
  status       TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'rolled_back')),
  actor        TEXT NOT NULL,
  started_at   INTEGER NOT NULL,
  finished_at  INTEGER,                             -- NULL while running
  detail       TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(detail))
);
CREATE INDEX deployments_by_environment ON deployments (environment, started_at);

-- The stages of one deployment, in order (seq from 1).
CREATE TABLE deployment_steps (
  deployment_id  INTEGER NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
  seq            INTEGER NOT NULL,
  name           TEXT NOT NULL,
  status         TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'skipped')),
  started_at     INTEGER NOT NULL,
  finished_at    INTEGER,
  detail         TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(detail)),
  PRIMARY KEY (deployment_id, seq)
);

-- What the local agent runs: one row per release process of a service in an environment.
CREATE TABLE slots (
  environment     TEXT NOT NULL,
  service         TEXT NOT NULL,
  digest          TEXT NOT NULL CHECK (digest GLOB 'sha256:*'),
  version         TEXT NOT NULL,
  port            INTEGER NOT NULL CHECK (port BETWEEN 0 AND 65535),
  pid             INTEGER NOT NULL DEFAULT 0,       -- 0 when no process
  pid_start_time  INTEGER NOT NULL DEFAULT 0,       -- /proc/<pid>/stat starttime, guards pid reuse
  state           TEXT NOT NULL CHECK (state IN ('starting', 'serving', 'warm', 'stopped')),
  weight          INTEGER NOT NULL DEFAULT 0 CHECK (weight BETWEEN 0 AND 100),  -- percent of traffic
  updated_at      INTEGER NOT NULL,
  PRIMARY KEY (environment, service, digest)
);

-- Every release marked known-good, as history; the latest row per environment+service is current.
CREATE TABLE known_good (
  id           INTEGER PRIMARY KEY,
  environment  TEXT NOT NULL,
  service      TEXT NOT NULL,
  digest       TEXT NOT NULL CHECK (digest GLOB 'sha256:*'),
  version      TEXT NOT NULL,
  marked_at    INTEGER NOT NULL
);
CREATE INDEX known_good_by_service ON known_good (environment, service, id);

-- The append-only, hash-chained audit log (see audit.h and docs/store.md for the chain rule).
CREATE TABLE audit_log (
  seq        INTEGER PRIMARY KEY,                   -- 1, 2, 3, ... with no gaps
  ts         INTEGER NOT NULL,
  actor      TEXT NOT NULL,
  kind       TEXT NOT NULL,
  subject    TEXT NOT NULL,
  data       TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(data)),
  prev_hash  TEXT NOT NULL,                         -- hash of event seq-1; 64 zeros for event 1
  hash       TEXT NOT NULL                          -- lowercase hex SHA-256
);
-- Append-only for villager's own code; someone with the file can drop these, which the chain then shows.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
)sql";

// Version 2 (report branch): when a release's commit was made, for DORA lead time (commit -> deployed).
// Unix ms of the commit (`git show -s --format=%ct`); 0 when unknown (not built from git, or older rows).
constexpr std::string_view kV2CommitTime = R"sql(
ALTER TABLE releases ADD COLUMN commit_time INTEGER NOT NULL DEFAULT 0;
)sql";

// Monitoring (src/monitor): alarm state changes and uptime probe samples. Its own list entry so
// branches adding other tables merge by renumbering one line.
constexpr std::string_view kMonitorTables = R"sql(
-- Every alarm state change: ok -> pending -> firing -> resolved (-> ok).
CREATE TABLE alarm_events (
  id           INTEGER PRIMARY KEY,
  ts           INTEGER NOT NULL,
  environment  TEXT NOT NULL,
  service      TEXT NOT NULL,
  release      TEXT NOT NULL DEFAULT '',
  alarm        TEXT NOT NULL,
  metric       TEXT NOT NULL,
  severity     TEXT NOT NULL,
  from_state   TEXT NOT NULL CHECK (from_state IN ('ok', 'pending', 'firing', 'resolved')),
  to_state     TEXT NOT NULL CHECK (to_state IN ('ok', 'pending', 'firing', 'resolved')),
  value        REAL,                                 -- NULL when the metric had no data
  threshold    REAL NOT NULL
);
CREATE INDEX alarm_events_by_service ON alarm_events (environment, service, ts);

-- Uptime probes: one row per health GET (kind 'public' through the listener, 'slot' direct, 'url').
CREATE TABLE probe_samples (
  id           INTEGER PRIMARY KEY,
  ts           INTEGER NOT NULL,
  environment  TEXT NOT NULL,
  service      TEXT NOT NULL,
  kind         TEXT NOT NULL CHECK (kind IN ('public', 'slot', 'url')),
  release      TEXT NOT NULL DEFAULT '',
  ok           INTEGER NOT NULL CHECK (ok IN (0, 1)),
  status       INTEGER NOT NULL DEFAULT 0,
  latency_us   INTEGER NOT NULL DEFAULT 0,
  detail       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX probe_samples_by_service ON probe_samples (environment, service, kind, ts);
)sql";

constexpr std::string_view kCreateMigrationsTable = R"sql(
CREATE TABLE IF NOT EXISTS schema_migrations (
  version     INTEGER PRIMARY KEY,
  name        TEXT NOT NULL,
  applied_at  INTEGER NOT NULL
))sql";

// Probe samples say what a probe saw, not only up or down: 'pending' before the first healthy cutover
// (left out of uptime), 'auth_failed' when the service refused the key (alive, but its auth contract is
// broken), and whether villager's own deploy was moving traffic at the time.
constexpr std::string_view kV4ProbeState = R"sql(
ALTER TABLE probe_samples ADD COLUMN state TEXT NOT NULL DEFAULT '';
ALTER TABLE probe_samples ADD COLUMN during_deploy INTEGER NOT NULL DEFAULT 0;
)sql";

// Abort requests (store/abort_requests.h): who asked a running deploy to stop its canary, and when the
// deploy acted on it. Its own list entry, like the monitor tables.
constexpr std::string_view kAbortRequests = R"sql(
CREATE TABLE abort_requests (
  id             INTEGER PRIMARY KEY,
  deployment_id  INTEGER NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
  actor          TEXT NOT NULL,
  reason         TEXT NOT NULL DEFAULT '',
  requested_at   INTEGER NOT NULL,
  handled_at     INTEGER                          -- NULL until the deploy acted on it
);
CREATE INDEX abort_requests_by_deployment ON abort_requests (deployment_id, handled_at);
)sql";

Error newer_schema_error(int found);

}  // namespace

const std::vector<Migration>& migrations() {
  static const std::vector<Migration> list = {
      {1, "foundation tables", kV1},
      {2, "releases.commit_time", kV2CommitTime},
      {3, "monitor: alarm_events, probe_samples", kMonitorTables},
      {4, "probe_samples.state, probe_samples.during_deploy", kV4ProbeState},
      {5, "abort_requests", kAbortRequests},
  };
  return list;
}

int latest_schema_version() {
  return migrations().back().version;
}

namespace {
Error newer_schema_error(int found) {
  return FailedPrecondition("schema version " + std::to_string(found) +
                            " is newer than this villager knows (" + std::to_string(latest_schema_version()) +
                            "): the state was written by a newer villager; upgrade villager to use it");
}
}  // namespace

Result<int> schema_version(Db& db) {
  Result<int64_t> has =
      db.query_int("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'");
  if (!has) return has.error();
  if (*has == 0) return 0;
  Result<int64_t> v = db.query_int("SELECT coalesce(max(version), 0) FROM schema_migrations");
  if (!v) return v.error();
  return static_cast<int>(*v);
}

Status migrate(Db& db, int64_t now_ms) {
  // Cheap check first, without the write lock: the common case is an up-to-date database.
  Result<int> current = schema_version(db);
  if (!current) return current.error().context("reading schema version");
  if (*current == latest_schema_version()) return Ok();
  if (*current > latest_schema_version()) return newer_schema_error(*current);

  for (const Migration& m : migrations()) {
    // The version is re-read under the write lock: another process may have migrated meanwhile.
    Result<Transaction> tx = Transaction::begin(db, Transaction::Mode::kImmediate);
    if (!tx) return tx.error().context("migrating schema");
    VILLAGER_RETURN_IF_ERROR(db.exec(kCreateMigrationsTable));
    Result<int> v = schema_version(db);
    if (!v) return v.error().context("reading schema version");
    if (*v > latest_schema_version()) return newer_schema_error(*v);
    if (m.version <= *v) continue;
    std::string ctx = "applying migration " + std::to_string(m.version) + " (" + std::string(m.name) + ")";
    Status s = db.exec(m.sql);
    if (!s.ok()) return s.error().context(ctx);
    Result<Statement> rec =
        db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)");
    if (!rec) return rec.error().context(ctx);
    rec->bind(1, m.version).bind(2, m.name).bind(3, now_ms);
    s = rec->run();
    if (!s.ok()) return s.error().context(ctx);
    s = tx->commit();
    if (!s.ok()) return s.error().context(ctx);
  }
  return Ok();
}

}  // namespace villager::store
