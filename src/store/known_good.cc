#include "store/known_good.h"

#include "store/store.h"

namespace villager::store {

Result<int64_t> mark_known_good(Store& store, const KnownGood& k) {
  std::string ctx = "marking " + k.environment + "/" + k.service + " " + k.digest + " known-good";
  Result<Statement> st = store.db().prepare(
      "INSERT INTO known_good (environment, service, digest, version, marked_at) VALUES (?, ?, ?, ?, ?) "
      "RETURNING id");
  if (!st) return st.error().context(ctx);
  st->bind(1, k.environment).bind(2, k.service).bind(3, k.digest).bind(4, k.version);
  st->bind(5, k.marked_at ? k.marked_at : store.now_ms());
  Result<bool> row = st->step();
  if (!row) return row.error().context(ctx);
  int64_t id = st->column_int(0);
  Status s = st->run();
  if (!s.ok()) return s.error().context(ctx);
  return id;
}

Result<std::vector<KnownGood>> known_good_history(Store& store, const std::string& environment,
                                                  const std::string& service, int limit) {
  std::string ctx = "reading known-good history of " + environment + "/" + service;
  // id, not marked_at, orders the history: two marks in the same millisecond still have an order.
  Result<Statement> st = store.db().prepare(
      "SELECT id, environment, service, digest, version, marked_at FROM known_good "
      "WHERE environment = ? AND service = ? ORDER BY id DESC LIMIT ?");
  if (!st) return st.error().context(ctx);
  st->bind(1, environment).bind(2, service).bind(3, limit > 0 ? limit : -1);
  std::vector<KnownGood> out;
  for (;;) {
    Result<bool> row = st->step();
    if (!row) return row.error().context(ctx);
    if (!*row) break;
    out.push_back(KnownGood{st->column_int(0), st->column_text(1), st->column_text(2), st->column_text(3),
                            st->column_text(4), st->column_int(5)});
  }
  return out;
}

Result<std::optional<KnownGood>> current_known_good(Store& store, const std::string& environment,
                                                    const std::string& service) {
  Result<std::vector<KnownGood>> h = known_good_history(store, environment, service, 1);
  if (!h) return h.error();
  if (h->empty()) return std::optional<KnownGood>();
  return std::optional<KnownGood>(h->front());
}

}  // namespace villager::store
