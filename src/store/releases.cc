#include "store/releases.h"

#include "store/store.h"

namespace villager::store {

namespace {

constexpr std::string_view kColumns = "service, version, digest, git_commit, dirty, created_at, commit_time";

Release read_release(const Statement& st) {
  return Release{st.column_text(0),     st.column_text(1), st.column_text(2), st.column_text(3),
                 st.column_int(4) != 0, st.column_int(5),  st.column_int(6)};
}

}  // namespace

Status upsert_release(Store& store, const Release& r) {
  std::string ctx = "recording release " + r.service + " " + r.digest;
  Result<Statement> st = store.db().prepare(
      "INSERT INTO releases (service, version, digest, git_commit, dirty, created_at, commit_time) "
      "VALUES (?, ?, ?, ?, ?, ?, ?) "
      "ON CONFLICT (service, digest) DO UPDATE SET version = excluded.version, "
      "git_commit = excluded.git_commit, dirty = excluded.dirty, "
      "commit_time = CASE WHEN excluded.commit_time > 0 THEN excluded.commit_time ELSE releases.commit_time "
      "END");
  if (!st) return st.error().context(ctx);
  st->bind(1, r.service).bind(2, r.version).bind(3, r.digest).bind(4, r.git_commit).bind(5, r.dirty);
  st->bind(6, r.created_at ? r.created_at : store.now_ms()).bind(7, r.commit_time);
  Status s = st->run();
  if (!s.ok()) return s.error().context(ctx);
  return Ok();
}

Result<Release> get_release(Store& store, const std::string& service, const std::string& digest) {
  std::string ctx = "reading release " + service + " " + digest;
  Result<Statement> st = store.db().prepare("SELECT " + std::string(kColumns) +
                                            " FROM releases WHERE service = ? AND digest = ?");
  if (!st) return st.error().context(ctx);
  st->bind(1, service).bind(2, digest);
  Result<bool> row = st->step();
  if (!row) return row.error().context(ctx);
  if (!*row) return NotFound(ctx + ": no such release");
  return read_release(*st);
}

Result<std::vector<Release>> list_releases(Store& store, const std::string& service) {
  std::string ctx = "listing releases of " + service;
  Result<Statement> st =
      store.db().prepare("SELECT " + std::string(kColumns) +
                         " FROM releases WHERE service = ? ORDER BY created_at DESC, digest");
  if (!st) return st.error().context(ctx);
  st->bind(1, service);
  std::vector<Release> out;
  for (;;) {
    Result<bool> row = st->step();
    if (!row) return row.error().context(ctx);
    if (!*row) break;
    out.push_back(read_release(*st));
  }
  return out;
}

}  // namespace villager::store
