#include "store/abort_requests.h"

#include "store/store.h"

namespace villager::store {

Result<int64_t> request_abort(Store& store, const AbortRequest& r) {
  std::string ctx = "recording an abort of deployment " + std::to_string(r.deployment_id);
  Result<Statement> st = store.db().prepare(
      "INSERT INTO abort_requests (deployment_id, actor, reason, requested_at) "
      "SELECT id, ?, ?, ? FROM deployments WHERE id = ? RETURNING id");
  if (!st) return st.error().context(ctx);
  st->bind(1, r.actor).bind(2, r.reason).bind(3, r.requested_at ? r.requested_at : store.now_ms());
  st->bind(4, r.deployment_id);
  Result<bool> row = st->step();
  if (!row) return row.error().context(ctx);
  if (!*row) return NotFound(ctx + ": no such deployment");
  int64_t id = st->column_int(0);
  if (Status s = st->run(); !s.ok()) return s.error().context(ctx);
  return id;
}

Result<std::optional<AbortRequest>> pending_abort(Store& store, const std::vector<int64_t>& deployment_ids) {
  const std::string ctx = "reading abort requests";
  Result<Statement> st = store.db().prepare(
      "SELECT id, deployment_id, actor, reason, requested_at FROM abort_requests "
      "WHERE deployment_id = ? AND handled_at IS NULL ORDER BY id LIMIT 1");
  if (!st) return st.error().context(ctx);
  std::optional<AbortRequest> oldest;
  for (int64_t id : deployment_ids) {
    st->reset();
    st->bind(1, id);
    Result<bool> row = st->step();
    if (!row) return row.error().context(ctx);
    if (!*row) continue;
    AbortRequest a{st->column_int(0),  st->column_int(1), st->column_text(2),
                   st->column_text(3), st->column_int(4), std::nullopt};
    if (!oldest || a.id < oldest->id) oldest = std::move(a);
  }
  return oldest;
}

Status mark_abort_handled(Store& store, int64_t deployment_id, int64_t handled_at) {
  Result<Statement> st = store.db().prepare(
      "UPDATE abort_requests SET handled_at = ? WHERE deployment_id = ? AND handled_at IS NULL");
  if (!st) return st.error();
  st->bind(1, handled_at ? handled_at : store.now_ms()).bind(2, deployment_id);
  if (Status s = st->run(); !s.ok())
    return s.error().context("marking the abort of deployment " + std::to_string(deployment_id) + " handled");
  return Ok();
}

}  // namespace villager::store
