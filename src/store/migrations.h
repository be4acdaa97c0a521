#pragma once
// The schema, as an ordered list of migrations. Migration N (1-based) moves the schema from version N-1
// to N; a shipped migration is never edited, only followed by a new one. migrations.cc is the one place
// to read every table.

#include <string_view>
#include <vector>

#include "base/error.h"
#include "store/db.h"

namespace villager::store {

struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;
};

const std::vector<Migration>& migrations();
// The schema version this build knows (the last migration's version).
int latest_schema_version();

// Applies every migration newer than the database's version, each in its own immediate transaction and
// recorded in schema_migrations. A database whose version is newer than this build knows is an error
// (FailedPrecondition): an older villager must not write a schema it does not understand.
// `now_ms` stamps applied_at.
Status migrate(Db& db, int64_t now_ms);
// The version recorded in the database (0 for a new one).
Result<int> schema_version(Db& db);

}  // namespace villager::store
