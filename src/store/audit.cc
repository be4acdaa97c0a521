#include "store/audit.h"

#include "base/hash.h"
#include "store/store.h"

namespace villager::store {

namespace {

void field(std::string& out, std::string_view value) {
  out += std::to_string(value.size());
  out += ':';
  out += value;
  out += '\n';
}

std::string hash_of(const AuditRecord& r, int64_t seq) {
  return audit_hash(r.prev_hash, seq, r.ts, r.actor, r.kind, r.subject, r.data);
}

constexpr std::string_view kSelectColumns =
    "SELECT seq, ts, actor, kind, subject, data, prev_hash, hash FROM audit_log";

AuditRecord read_record(const Statement& st) {
  return AuditRecord{st.column_int(0),  st.column_int(1),  st.column_text(2), st.column_text(3),
                     st.column_text(4), st.column_text(5), st.column_text(6), st.column_text(7)};
}

AuditVerification bad(AuditVerification v, int64_t seq, AuditProblem problem, std::string message) {
  v.ok = false;
  v.head_hash.clear();
  v.first_bad_seq = seq;
  v.problem = problem;
  v.message = std::move(message);
  return v;
}

}  // namespace

std::string audit_hash(std::string_view prev_hash, int64_t seq, int64_t ts, std::string_view actor,
                       std::string_view kind, std::string_view subject, std::string_view data) {
  std::string buf = "villager-audit-v1\n";
  buf += prev_hash;
  buf += '\n';
  field(buf, std::to_string(seq));
  field(buf, std::to_string(ts));
  field(buf, actor);
  field(buf, kind);
  field(buf, subject);
  field(buf, data);
  return sha256_hex(buf);
}

std::string_view to_string(AuditProblem problem) {
  switch (problem) {
    case AuditProblem::kNone:
      return "none";
    case AuditProblem::kEdited:
      return "edited";
    case AuditProblem::kMissing:
      return "missing";
    case AuditProblem::kOutOfOrder:
      return "out_of_order";
  }
  return "none";
}

Result<int64_t> append_audit(Store& store, const AuditEvent& event) {
  std::string ctx = "appending audit event " + event.kind + " " + event.subject;
  std::string data = event.data_json.empty() ? "{}" : event.data_json;
  Db& db = store.db();
  // The write lock is taken before reading the last hash: that read and the insert must be one step.
  Result<Transaction> tx = Transaction::begin(db, Transaction::Mode::kImmediate);
  if (!tx) return tx.error().context(ctx);

  Result<Statement> last = db.prepare("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1");
  if (!last) return last.error().context(ctx);
  Result<bool> row = last->step();
  if (!row) return row.error().context(ctx);
  int64_t seq = *row ? last->column_int(0) + 1 : 1;
  std::string prev_hash = *row ? last->column_text(1) : std::string(kAuditGenesisHash);
  last->reset();

  int64_t ts = store.now_ms();
  std::string hash = audit_hash(prev_hash, seq, ts, event.actor, event.kind, event.subject, data);
  Result<Statement> ins = db.prepare(
      "INSERT INTO audit_log (seq, ts, actor, kind, subject, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, "
      "?, ?, ?)");
  if (!ins) return ins.error().context(ctx);
  ins->bind(1, seq).bind(2, ts).bind(3, event.actor).bind(4, event.kind).bind(5, event.subject).bind(6, data);
  ins->bind(7, prev_hash).bind(8, hash);
  Status s = ins->run();
  if (!s.ok()) {
    // The only constraint a well-formed append can hit is json_valid(data).
    if (s.error().code == Code::kConflict) return InvalidArgument(ctx + ": data is not valid JSON: " + data);
    return s.error().context(ctx);
  }
  s = tx->commit();
  if (!s.ok()) return s.error().context(ctx);
  return seq;
}

Result<AuditVerification> verify_audit(Store& store) {
  std::string ctx = "verifying audit log";
  Db& db = store.db();
  Result<int64_t> max_seq = db.query_int("SELECT coalesce(max(seq), 0) FROM audit_log");
  if (!max_seq) return max_seq.error().context(ctx);
  Result<Statement> st = db.prepare(std::string(kSelectColumns) + " ORDER BY seq");
  if (!st) return st.error().context(ctx);

  AuditVerification v;
  int64_t expected = 1;
  std::string prev_hash(kAuditGenesisHash);
  for (;;) {
    Result<bool> row = st->step();
    if (!row) return row.error().context(ctx);
    if (!*row) break;
    AuditRecord r = read_record(*st);
    const std::string e = std::to_string(expected);
    if (r.seq > expected) {
      std::string which = r.seq == expected + 1 ? "event " + e + " is"
                                                : "events " + e + ".." + std::to_string(r.seq - 1) + " are";
      return bad(v, expected, AuditProblem::kMissing, which + " missing (deleted)");
    }
    const std::string s = std::to_string(r.seq);
    if (r.seq < expected) return bad(v, r.seq, AuditProblem::kOutOfOrder, "events out of order at " + s);
    if (hash_of(r, r.seq) != r.hash) {
      // An intact event at the wrong place still hashes correctly under the seq it was written with.
      // Searching every seq is linear, but it runs at most once, on a log that already failed.
      for (int64_t other = 1; other <= *max_seq + 1; ++other) {
        if (other != r.seq && hash_of(r, other) == r.hash) {
          return bad(v, r.seq, AuditProblem::kOutOfOrder,
                     "events out of order at " + s + " (the event here was written as event " +
                         std::to_string(other) + ")");
        }
      }
      return bad(v, r.seq, AuditProblem::kEdited, "event " + s + " was edited");
    }
    if (r.prev_hash != prev_hash) {
      // Both rows are self-consistent but do not link: the event before this one is not the one that was
      // there when this event was written.
      if (r.seq == 1)
        return bad(v, 1, AuditProblem::kEdited, "event 1 was edited (its prev_hash is not the genesis hash)");
      std::string p = std::to_string(r.seq - 1);
      return bad(v, r.seq - 1, AuditProblem::kMissing,
                 "event " + p + " is missing (deleted) or was rewritten: event " + s + " does not follow it");
    }
    prev_hash = r.hash;
    expected = r.seq + 1;
    ++v.events;
  }
  v.head_hash = v.events > 0 ? prev_hash : "";
  return v;
}

Result<std::vector<AuditRecord>> list_audit(Store& store, int limit) {
  std::string ctx = "listing audit log";
  // The newest `limit` rows, returned oldest first.
  Result<Statement> st = store.db().prepare("SELECT * FROM (" + std::string(kSelectColumns) +
                                            " ORDER BY seq DESC LIMIT ?) ORDER BY seq");
  if (!st) return st.error().context(ctx);
  st->bind(1, limit > 0 ? limit : -1);
  std::vector<AuditRecord> out;
  for (;;) {
    Result<bool> row = st->step();
    if (!row) return row.error().context(ctx);
    if (!*row) break;
    out.push_back(read_record(*st));
  }
  return out;
}

}  // namespace villager::store
