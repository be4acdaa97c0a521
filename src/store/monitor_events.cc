#include "store/monitor_events.h"

#include "store/store.h"

namespace villager::store {

Result<int64_t> insert_alarm_event(Store& store, const AlarmEventRow& r) {
  std::string ctx = "recording alarm event " + r.alarm + " " + r.environment + "/" + r.service;
  Result<Statement> st = store.db().prepare(
      "INSERT INTO alarm_events (ts, environment, service, release, alarm, metric, severity, from_state, "
      "to_state, value, threshold) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!st) return st.error().context(ctx);
  st->bind(1, r.ts ? r.ts : store.now_ms()).bind(2, r.environment).bind(3, r.service).bind(4, r.release);
  st->bind(5, r.alarm).bind(6, r.metric).bind(7, r.severity).bind(8, r.from_state).bind(9, r.to_state);
  if (r.value)
    st->bind(10, *r.value);
  else
    st->bind(10, std::nullopt);
  st->bind(11, r.threshold);
  Status s = st->run();
  if (!s.ok()) return s.error().context(ctx);
  return store.db().last_insert_rowid();
}

Result<std::vector<AlarmEventRow>> list_alarm_events(Store& store, const std::string& environment,
                                                     const std::string& service, int64_t since_ms) {
  std::string ctx = "listing alarm events";
  Result<Statement> st = store.db().prepare(
      "SELECT id, ts, environment, service, release, alarm, metric, severity, from_state, to_state, value, "
      "threshold FROM alarm_events WHERE (?1 = '' OR environment = ?1) AND (?2 = '' OR service = ?2) AND "
      "ts >= ?3 ORDER BY id");
  if (!st) return st.error().context(ctx);
  st->bind(1, environment).bind(2, service).bind(3, since_ms);
  std::vector<AlarmEventRow> out;
  for (;;) {
    Result<bool> row = st->step();
    if (!row) return row.error().context(ctx);
    if (!*row) break;
    AlarmEventRow e;
    e.id = st->column_int(0);
    e.ts = st->column_int(1);
    e.environment = st->column_text(2);
    e.service = st->column_text(3);
    e.release = st->column_text(4);
    e.alarm = st->column_text(5);
    e.metric = st->column_text(6);
    e.severity = st->column_text(7);
    e.from_state = st->column_text(8);
    e.to_state = st->column_text(9);
    if (!st->column_is_null(10)) e.value = st->column_double(10);
    e.threshold = st->column_double(11);
    out.push_back(std::move(e));
  }
  return out;
}

Status insert_probe_sample(Store& store, const ProbeSampleRow& r) {
  std::string ctx = "recording probe sample " + r.environment + "/" + r.service + " " + r.kind;
  Result<Statement> st = store.db().prepare(
      "INSERT INTO probe_samples (ts, environment, service, kind, release, ok, status, latency_us, detail) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!st) return st.error().context(ctx);
  st->bind(1, r.ts ? r.ts : store.now_ms()).bind(2, r.environment).bind(3, r.service).bind(4, r.kind);
  st->bind(5, r.release).bind(6, r.ok).bind(7, r.status).bind(8, r.latency_us).bind(9, r.detail);
  Status s = st->run();
  if (!s.ok()) return s.error().context(ctx);
  return Ok();
}

Result<Availability> probe_availability(Store& store, const std::string& environment,
                                        const std::string& service, const std::string& kind,
                                        int64_t since_ms) {
  std::string ctx = "reading availability of " + environment + "/" + service;
  Result<Statement> st = store.db().prepare(
      "SELECT count(*), coalesce(sum(ok), 0) FROM probe_samples WHERE environment = ?1 AND service = ?2 AND "
      "(?3 = '' OR kind = ?3) AND ts >= ?4");
  if (!st) return st.error().context(ctx);
  st->bind(1, environment).bind(2, service).bind(3, kind).bind(4, since_ms);
  Result<bool> row = st->step();
  if (!row) return row.error().context(ctx);
  Availability a;
  if (*row) {
    a.samples = st->column_int(0);
    a.ok = st->column_int(1);
  }
  return a;
}

}  // namespace villager::store
