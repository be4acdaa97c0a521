#include "store/monitor_events.h"

#include <algorithm>

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
      "INSERT INTO probe_samples (ts, environment, service, kind, release, ok, status, latency_us, detail, "
      "state, during_deploy) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!st) return st.error().context(ctx);
  st->bind(1, r.ts ? r.ts : store.now_ms()).bind(2, r.environment).bind(3, r.service).bind(4, r.kind);
  st->bind(5, r.release).bind(6, r.ok).bind(7, r.status).bind(8, r.latency_us).bind(9, r.detail);
  st->bind(10, r.state).bind(11, r.during_deploy);
  Status s = st->run();
  if (!s.ok()) return s.error().context(ctx);
  return Ok();
}

Result<std::optional<ProbeSampleRow>> last_probe_sample(Store& store, const std::string& environment,
                                                        const std::string& service) {
  std::string ctx = "reading the last probe of " + environment + "/" + service;
  Result<Statement> st = store.db().prepare(
      "SELECT ts, kind, release, ok, status, latency_us, detail, state, during_deploy FROM probe_samples "
      "WHERE environment = ? AND service = ? AND kind IN ('public', 'url') ORDER BY ts DESC, id DESC LIMIT "
      "1");
  if (!st) return st.error().context(ctx);
  st->bind(1, environment).bind(2, service);
  Result<bool> row = st->step();
  if (!row) return row.error().context(ctx);
  if (!*row) return std::optional<ProbeSampleRow>();
  ProbeSampleRow r;
  r.ts = st->column_int(0);
  r.environment = environment;
  r.service = service;
  r.kind = st->column_text(1);
  r.release = st->column_text(2);
  r.ok = st->column_int(3) != 0;
  r.status = static_cast<int>(st->column_int(4));
  r.latency_us = st->column_int(5);
  r.detail = st->column_text(6);
  r.state = st->column_text(7);
  r.during_deploy = st->column_int(8) != 0;
  return std::optional<ProbeSampleRow>(r);
}

void Availability::add(const Availability& o) {
  samples += o.samples;
  ok += o.ok;
  pending += o.pending;
  auth_failed += o.auth_failed;
  during_deploy += o.during_deploy;
  during_deploy_ok += o.during_deploy_ok;
  if (o.first_ts && (!first_ts || o.first_ts < first_ts)) first_ts = o.first_ts;
  last_ts = std::max(last_ts, o.last_ts);
  downtime_ms += o.downtime_ms;
}

Result<Availability> probe_availability(Store& store, const std::string& environment,
                                        const std::string& service, const std::string& kind, int64_t since_ms,
                                        int64_t until_ms) {
  std::string ctx = "reading availability of " + environment + "/" + service;
  // Downtime: each down probe counts until the next counted probe of the same kind (the last one, none).
  Result<Statement> st = store.db().prepare(
      "SELECT coalesce(sum(c), 0), coalesce(sum(c AND ok), 0), coalesce(sum(NOT c), 0), "
      "coalesce(sum(state = 'auth_failed'), 0), coalesce(sum(c AND during_deploy), 0), "
      "coalesce(sum(c AND during_deploy AND ok), 0), coalesce(min(CASE WHEN c THEN ts END), 0), "
      "coalesce(max(CASE WHEN c THEN ts END), 0), "
      "coalesce(sum(CASE WHEN c AND NOT ok THEN coalesce(next_ts - ts, 0) END), 0) "
      "FROM (SELECT *, LEAD(ts) OVER (PARTITION BY kind, c ORDER BY ts, id) AS next_ts FROM "
      "(SELECT *, state != 'pending' AS c FROM probe_samples WHERE environment = ?1 AND service = ?2 "
      "AND (CASE WHEN ?3 = '' THEN kind IN ('public', 'url') ELSE kind = ?3 END) AND ts >= ?4 AND ts < ?5))");
  if (!st) return st.error().context(ctx);
  st->bind(1, environment).bind(2, service).bind(3, kind).bind(4, since_ms).bind(5, until_ms);
  Result<bool> row = st->step();
  if (!row) return row.error().context(ctx);
  Availability a;
  if (*row) {
    a.samples = st->column_int(0);
    a.ok = st->column_int(1);
    a.pending = st->column_int(2);
    a.auth_failed = st->column_int(3);
    a.during_deploy = st->column_int(4);
    a.during_deploy_ok = st->column_int(5);
    a.first_ts = st->column_int(6);
    a.last_ts = st->column_int(7);
    a.downtime_ms = st->column_int(8);
  }
  return a;
}

}  // namespace villager::store
