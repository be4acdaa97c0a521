#include "store/deployment_steps.h"

#include "store/store.h"

namespace villager::store {

std::string_view to_string(StepStatus status) {
  switch (status) {
    case StepStatus::kRunning:
      return "running";
    case StepStatus::kSucceeded:
      return "succeeded";
    case StepStatus::kFailed:
      return "failed";
    case StepStatus::kSkipped:
      return "skipped";
  }
  return "running";
}

Result<StepStatus> parse_step_status(std::string_view text) {
  for (auto s : {StepStatus::kRunning, StepStatus::kSucceeded, StepStatus::kFailed, StepStatus::kSkipped})
    if (to_string(s) == text) return s;
  return InvalidArgument("unknown step status '" + std::string(text) + "'");
}

Result<int> add_step(Store& store, int64_t deployment_id, std::string_view name) {
  std::string ctx = "adding step '" + std::string(name) + "' to deployment " + std::to_string(deployment_id);
  // One statement computes the next seq and inserts it, so two writers cannot pick the same seq.
  Result<Statement> st = store.db().prepare(
      "INSERT INTO deployment_steps (deployment_id, seq, name, status, started_at) "
      "SELECT ?1, coalesce(max(seq), 0) + 1, ?2, 'running', ?3 FROM deployment_steps WHERE deployment_id = "
      "?1 "
      "RETURNING seq");
  if (!st) return st.error().context(ctx);
  st->bind(1, deployment_id).bind(2, name).bind(3, store.now_ms());
  Result<bool> row = st->step();
  if (!row) {
    if (row.error().code == Code::kConflict) return NotFound(ctx + ": no such deployment");
    return row.error().context(ctx);
  }
  int seq = static_cast<int>(st->column_int(0));
  Status s = st->run();
  if (!s.ok()) return s.error().context(ctx);
  return seq;
}

Status finish_step(Store& store, int64_t deployment_id, int seq, StepStatus status,
                   std::string_view detail_json) {
  std::string ctx =
      "finishing step " + std::to_string(seq) + " of deployment " + std::to_string(deployment_id);
  if (status == StepStatus::kRunning) return InvalidArgument(ctx + ": final status cannot be 'running'");
  Result<Statement> st = store.db().prepare(
      "UPDATE deployment_steps SET status = ?, finished_at = ?, detail = ? "
      "WHERE deployment_id = ? AND seq = ? AND status = 'running'");
  if (!st) return st.error().context(ctx);
  st->bind(1, to_string(status))
      .bind(2, store.now_ms())
      .bind(3, detail_json)
      .bind(4, deployment_id)
      .bind(5, seq);
  Status s = st->run();
  if (!s.ok()) return s.error().context(ctx);
  if (store.db().changes() == 1) return Ok();
  Result<Statement> q =
      store.db().prepare("SELECT status FROM deployment_steps WHERE deployment_id = ? AND seq = ?");
  if (!q) return q.error().context(ctx);
  q->bind(1, deployment_id).bind(2, seq);
  Result<bool> row = q->step();
  if (!row) return row.error().context(ctx);
  if (!*row) return NotFound(ctx + ": no such step");
  return FailedPrecondition(ctx + ": it already ended as '" + q->column_text(0) + "'");
}

Result<std::vector<DeploymentStep>> list_steps(Store& store, int64_t deployment_id) {
  std::string ctx = "listing steps of deployment " + std::to_string(deployment_id);
  Result<Statement> st = store.db().prepare(
      "SELECT deployment_id, seq, name, status, started_at, finished_at, detail FROM deployment_steps "
      "WHERE deployment_id = ? ORDER BY seq");
  if (!st) return st.error().context(ctx);
  st->bind(1, deployment_id);
  std::vector<DeploymentStep> out;
  for (;;) {
    Result<bool> row = st->step();
    if (!row) return row.error().context(ctx);
    if (!*row) break;
    DeploymentStep step;
    step.deployment_id = st->column_int(0);
    step.seq = static_cast<int>(st->column_int(1));
    step.name = st->column_text(2);
    Result<StepStatus> status = parse_step_status(st->column_text(3));
    if (!status) return status.error().context(ctx);
    step.status = *status;
    step.started_at = st->column_int(4);
    step.finished_at = st->column_optional_int(5);
    step.detail = st->column_text(6);
    out.push_back(std::move(step));
  }
  return out;
}

}  // namespace villager::store
