#include "store/deployments.h"

#include "store/store.h"

namespace villager::store {

namespace {

constexpr std::string_view kColumns =
    "id, environment, service, kind, version, digest, from_digest, status, actor, started_at, finished_at, "
    "detail";

Result<Deployment> read_deployment(const Statement& st) {
  Deployment d;
  d.id = st.column_int(0);
  d.environment = st.column_text(1);
  d.service = st.column_text(2);
  Result<DeploymentKind> kind = parse_deployment_kind(st.column_text(3));
  if (!kind) return kind.error();
  d.kind = *kind;
  d.version = st.column_text(4);
  d.digest = st.column_text(5);
  d.from_digest = st.column_text(6);
  Result<DeploymentStatus> status = parse_deployment_status(st.column_text(7));
  if (!status) return status.error();
  d.status = *status;
  d.actor = st.column_text(8);
  d.started_at = st.column_int(9);
  d.finished_at = st.column_optional_int(10);
  d.detail = st.column_text(11);
  return d;
}

}  // namespace

std::string_view to_string(DeploymentKind kind) {
  return kind == DeploymentKind::kDeploy ? "deploy" : "rollback";
}

std::string_view to_string(DeploymentStatus status) {
  switch (status) {
    case DeploymentStatus::kRunning:
      return "running";
    case DeploymentStatus::kSucceeded:
      return "succeeded";
    case DeploymentStatus::kFailed:
      return "failed";
    case DeploymentStatus::kRolledBack:
      return "rolled_back";
  }
  return "running";
}

Result<DeploymentKind> parse_deployment_kind(std::string_view text) {
  if (text == "deploy") return DeploymentKind::kDeploy;
  if (text == "rollback") return DeploymentKind::kRollback;
  return InvalidArgument("unknown deployment kind '" + std::string(text) + "'");
}

Result<DeploymentStatus> parse_deployment_status(std::string_view text) {
  for (auto s : {DeploymentStatus::kRunning, DeploymentStatus::kSucceeded, DeploymentStatus::kFailed,
                 DeploymentStatus::kRolledBack})
    if (to_string(s) == text) return s;
  return InvalidArgument("unknown deployment status '" + std::string(text) + "'");
}

Result<int64_t> create_deployment(Store& store, const Deployment& d) {
  std::string ctx = "recording deployment of " + d.service + " to " + d.environment;
  Result<Statement> st = store.db().prepare(
      "INSERT INTO deployments (environment, service, kind, version, digest, from_digest, status, actor, "
      "started_at, finished_at, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id");
  if (!st) return st.error().context(ctx);
  st->bind(1, d.environment)
      .bind(2, d.service)
      .bind(3, to_string(d.kind))
      .bind(4, d.version)
      .bind(5, d.digest);
  st->bind(6, d.from_digest).bind(7, to_string(d.status)).bind(8, d.actor);
  st->bind(9, d.started_at ? d.started_at : store.now_ms()).bind(10, d.finished_at).bind(11, d.detail);
  Result<bool> row = st->step();
  if (!row) return row.error().context(ctx);
  int64_t id = st->column_int(0);
  Status s = st->run();  // finish the statement so the insert is complete before we return
  if (!s.ok()) return s.error().context(ctx);
  return id;
}

Status finish_deployment(Store& store, int64_t id, DeploymentStatus status, std::string_view detail_json,
                         int64_t finished_at) {
  std::string ctx = "finishing deployment " + std::to_string(id);
  if (status == DeploymentStatus::kRunning)
    return InvalidArgument(ctx + ": final status cannot be 'running'");
  Result<Statement> st = store.db().prepare(
      "UPDATE deployments SET status = ?, finished_at = ?, detail = ? WHERE id = ? AND status = 'running'");
  if (!st) return st.error().context(ctx);
  st->bind(1, to_string(status))
      .bind(2, finished_at ? finished_at : store.now_ms())
      .bind(3, detail_json)
      .bind(4, id);
  Status s = st->run();
  if (!s.ok()) return s.error().context(ctx);
  if (store.db().changes() == 1) return Ok();
  Result<Deployment> existing = get_deployment(store, id);
  if (!existing) return existing.error().context(ctx);
  return FailedPrecondition(ctx + ": it already finished as '" + std::string(to_string(existing->status)) +
                            "'");
}

Result<Deployment> get_deployment(Store& store, int64_t id) {
  std::string ctx = "reading deployment " + std::to_string(id);
  Result<Statement> st =
      store.db().prepare("SELECT " + std::string(kColumns) + " FROM deployments WHERE id = ?");
  if (!st) return st.error().context(ctx);
  st->bind(1, id);
  Result<bool> row = st->step();
  if (!row) return row.error().context(ctx);
  if (!*row) return NotFound(ctx + ": no such deployment");
  Result<Deployment> d = read_deployment(*st);
  if (!d) return d.error().context(ctx);
  return d;
}

Result<std::vector<Deployment>> list_deployments(Store& store, const DeploymentFilter& f) {
  std::string ctx = "listing deployments";
  std::string sql = "SELECT " + std::string(kColumns) +
                    " FROM deployments WHERE (?1 = '' OR environment = ?1) AND (?2 = '' OR service = ?2)"
                    " AND started_at >= ?3 ORDER BY started_at DESC, id DESC LIMIT ?4";
  Result<Statement> st = store.db().prepare(sql);
  if (!st) return st.error().context(ctx);
  st->bind(1, f.environment).bind(2, f.service).bind(3, f.since).bind(4, f.limit > 0 ? f.limit : -1);
  std::vector<Deployment> out;
  for (;;) {
    Result<bool> row = st->step();
    if (!row) return row.error().context(ctx);
    if (!*row) break;
    Result<Deployment> d = read_deployment(*st);
    if (!d) return d.error().context(ctx);
    out.push_back(std::move(*d));
  }
  return out;
}

Result<std::optional<Deployment>> newest_deployment(Store& store, const std::string& environment,
                                                    const std::string& service) {
  DeploymentFilter f;
  f.environment = environment;
  f.service = service;
  f.limit = 1;
  auto rows = list_deployments(store, f);
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<Deployment>{};
  return std::optional<Deployment>{std::move(rows->front())};
}

}  // namespace villager::store
