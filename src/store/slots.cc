#include "store/slots.h"

#include "store/store.h"

namespace villager::store {

std::string_view to_string(SlotState state) {
  switch (state) {
    case SlotState::kStarting:
      return "starting";
    case SlotState::kServing:
      return "serving";
    case SlotState::kWarm:
      return "warm";
    case SlotState::kStopped:
      return "stopped";
  }
  return "stopped";
}

Result<SlotState> parse_slot_state(std::string_view text) {
  for (auto s : {SlotState::kStarting, SlotState::kServing, SlotState::kWarm, SlotState::kStopped})
    if (to_string(s) == text) return s;
  return InvalidArgument("unknown slot state '" + std::string(text) + "'");
}

Status upsert_slot(Store& store, const Slot& s) {
  std::string ctx = "recording slot " + s.environment + "/" + s.service + " " + s.digest;
  if (s.weight < 0 || s.weight > 100)
    return InvalidArgument(ctx + ": weight " + std::to_string(s.weight) + " is outside 0..100");
  if (s.port < 0 || s.port > 65535)
    return InvalidArgument(ctx + ": port " + std::to_string(s.port) + " is invalid");
  Result<Statement> st = store.db().prepare(
      "INSERT INTO slots (environment, service, digest, version, port, pid, pid_start_time, state, weight, "
      "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (environment, service, digest) DO "
      "UPDATE SET "
      "version = excluded.version, port = excluded.port, pid = excluded.pid, "
      "pid_start_time = excluded.pid_start_time, state = excluded.state, weight = excluded.weight, "
      "updated_at = excluded.updated_at");
  if (!st) return st.error().context(ctx);
  st->bind(1, s.environment).bind(2, s.service).bind(3, s.digest).bind(4, s.version).bind(5, s.port);
  st->bind(6, s.pid)
      .bind(7, s.pid_start_time)
      .bind(8, to_string(s.state))
      .bind(9, s.weight)
      .bind(10, store.now_ms());
  Status r = st->run();
  if (!r.ok()) return r.error().context(ctx);
  return Ok();
}

Status delete_slot(Store& store, const std::string& environment, const std::string& service,
                   const std::string& digest) {
  std::string ctx = "deleting slot " + environment + "/" + service + " " + digest;
  Result<Statement> st =
      store.db().prepare("DELETE FROM slots WHERE environment = ? AND service = ? AND digest = ?");
  if (!st) return st.error().context(ctx);
  st->bind(1, environment).bind(2, service).bind(3, digest);
  Status r = st->run();
  if (!r.ok()) return r.error().context(ctx);
  return Ok();
}

Result<std::vector<Slot>> list_slots(Store& store, const std::string& environment) {
  std::string ctx = "listing slots";
  Result<Statement> st = store.db().prepare(
      "SELECT environment, service, digest, version, port, pid, pid_start_time, state, weight, updated_at "
      "FROM slots WHERE (?1 = '' OR environment = ?1) ORDER BY environment, service, weight DESC, digest");
  if (!st) return st.error().context(ctx);
  st->bind(1, environment);
  std::vector<Slot> out;
  for (;;) {
    Result<bool> row = st->step();
    if (!row) return row.error().context(ctx);
    if (!*row) break;
    Slot s;
    s.environment = st->column_text(0);
    s.service = st->column_text(1);
    s.digest = st->column_text(2);
    s.version = st->column_text(3);
    s.port = static_cast<int>(st->column_int(4));
    s.pid = st->column_int(5);
    s.pid_start_time = st->column_int(6);
    Result<SlotState> state = parse_slot_state(st->column_text(7));
    if (!state) return state.error().context(ctx);
    s.state = *state;
    s.weight = static_cast<int>(st->column_int(8));
    s.updated_at = st->column_int(9);
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace villager::store
