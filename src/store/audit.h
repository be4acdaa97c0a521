#pragma once
// The audit log: append-only, hash-chained. Event N stores prev_hash = hash of event N-1 (64 zeros for
// event 1) and hash = SHA-256 over prev_hash and a canonical encoding of (seq, ts, actor, kind, subject,
// data); see audit_hash() and docs/store.md. Editing, deleting or reordering any event breaks the chain
// at that event, and verify_audit names it. Dropping events from the END is not detectable from the
// table alone: keep the head hash that verify reports somewhere else (a review document) to detect it.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace villager::store {

class Store;

// prev_hash of the first event.
inline constexpr std::string_view kAuditGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

struct AuditEvent {
  std::string actor;             // who: "alice", "agent@host", "ci"
  std::string kind;              // what: "deploy.started", "rollback.finished", "approval.added"
  std::string subject;           // on what: "production/user", "sha256:..."
  std::string data_json = "{}";  // details, a JSON value ("" means "{}")
};

struct AuditRecord {
  int64_t seq = 0;
  int64_t ts = 0;  // unix ms
  std::string actor;
  std::string kind;
  std::string subject;
  std::string data;
  std::string prev_hash;
  std::string hash;
};

// Appends one event and returns its seq. The read of the last hash and the insert happen under the
// database write lock (BEGIN IMMEDIATE), so appends from several processes form one chain. Inside an
// open transaction it joins that transaction (as a savepoint): the caller's transaction must then be
// immediate. InvalidArgument if data_json is not JSON.
Result<int64_t> append_audit(Store& store, const AuditEvent& event);

enum class AuditProblem { kNone, kEdited, kMissing, kOutOfOrder };
std::string_view to_string(AuditProblem problem);  // "none" | "edited" | "missing" | "out_of_order"

struct AuditVerification {
  bool ok = true;
  int64_t events = 0;         // events read before the first problem (all of them when ok)
  std::string head_hash;      // hash of the last event when ok ("" for an empty log)
  int64_t first_bad_seq = 0;  // when !ok: the first event edited, deleted or out of order
  AuditProblem problem = AuditProblem::kNone;
  std::string message;  // "event 17 was edited", "event 17 is missing (deleted)", ...
};

// Walks the chain from event 1 and stops at the first problem. A broken chain is a value (ok = false),
// not an error; the Result fails only when the log cannot be read.
Result<AuditVerification> verify_audit(Store& store);

// The last `limit` events (0 = all), oldest first.
Result<std::vector<AuditRecord>> list_audit(Store& store, int limit = 0);

// The chain rule, exposed so tests and docs can check it independently:
//   hex(SHA-256("villager-audit-v1\n" + prev_hash + "\n" + F(seq) + F(ts) + F(actor) + F(kind) +
//               F(subject) + F(data)))   where F(x) = decimal byte length of x + ":" + x + "\n"
// and seq, ts are written in decimal.
std::string audit_hash(std::string_view prev_hash, int64_t seq, int64_t ts, std::string_view actor,
                       std::string_view kind, std::string_view subject, std::string_view data);

}  // namespace villager::store
