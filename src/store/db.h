#pragma once
// A thin RAII wrapper over sqlite3: Db (one connection), Statement (prepare, bind, step, column) and
// Transaction (BEGIN ... COMMIT, rolled back if it dies uncommitted). Every error carries the SQL it
// came from, so "store: INSERT INTO releases ...: UNIQUE constraint failed" says where it broke.
// Nothing here throws; none of it is thread-safe (one connection per thread).

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.h"

struct sqlite3;
struct sqlite3_stmt;

namespace villager::store {

// One prepared statement. Bind indexes are 1-based, column indexes 0-based (as in sqlite3).
// A bind error is remembered and returned by the next step()/run(), so binds chain without checks.
class Statement {
 public:
  Statement() = default;
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  Statement& bind(int index, int64_t value);
  Statement& bind(int index, int value) { return bind(index, static_cast<int64_t>(value)); }
  Statement& bind(int index, bool value) { return bind(index, static_cast<int64_t>(value ? 1 : 0)); }
  Statement& bind(int index, double value);
  Statement& bind(int index, std::string_view value);
  Statement& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
  Statement& bind(int index, const std::string& value) { return bind(index, std::string_view(value)); }
  Statement& bind(int index, std::nullopt_t);
  Statement& bind(int index, const std::optional<int64_t>& value);

  // Advances one row: true when a row is available through column_*, false when done.
  Result<bool> step();
  // Steps until done (for statements that return no rows).
  Status run();
  // Makes the statement ready to bind and step again (bindings are cleared).
  void reset();

  bool column_is_null(int col) const;
  int64_t column_int(int col) const;
  double column_double(int col) const;
  std::string column_text(int col) const;
  std::optional<int64_t> column_optional_int(int col) const;

  const std::string& sql() const { return sql_; }

 private:
  friend class Db;
  Statement(sqlite3* db, sqlite3_stmt* stmt, std::string sql) : db_(db), stmt_(stmt), sql_(std::move(sql)) {}
  Error error_here(int rc) const;
  void note_bind(int rc);

  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  std::string sql_;
  std::optional<Error> bind_error_;
};

// One open connection. Moves, never copies; closes on destruction.
class Db {
 public:
  // Opens (creating if `create`) the database file. No pragmas are set here: Store does that.
  static Result<Db> open(const std::filesystem::path& path, bool create);

  Db() = default;
  Db(Db&& other) noexcept;
  Db& operator=(Db&& other) noexcept;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db();

  // Runs one or more statements that return nothing useful (DDL, pragmas, BEGIN/COMMIT).
  Status exec(std::string_view sql);
  Result<Statement> prepare(std::string_view sql);
  // The single integer a query such as "PRAGMA user_version" or "SELECT count(*) ..." returns.
  Result<int64_t> query_int(std::string_view sql);
  // The single text value a query such as "PRAGMA journal_mode" returns.
  Result<std::string> query_text(std::string_view sql);

  int64_t last_insert_rowid() const;
  int changes() const;
  // True while a transaction is open on this connection.
  bool in_transaction() const;
  // The database's pages as SQLite reads them (committed WAL frames included), through this connection.
  // How to read a database file this process may hold open: open() and close() of the file by anyone
  // else in the process would drop every POSIX lock SQLite holds on it.
  Result<std::string> image();
  const std::filesystem::path& path() const { return path_; }
  sqlite3* raw() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
  std::filesystem::path path_;
};

// A transaction that rolls back unless commit() is called. Immediate transactions take the write lock
// at BEGIN (waiting up to the busy timeout), so read-then-write sequences such as "read the last audit
// hash, insert the next row" cannot interleave with another writer. Nested use becomes a SAVEPOINT.
class Transaction {
 public:
  enum class Mode { kDeferred, kImmediate };

  static Result<Transaction> begin(Db& db, Mode mode = Mode::kImmediate);

  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  Status commit();
  // Rolls back now (the destructor does the same for an uncommitted transaction).
  Status rollback();

 private:
  Transaction(Db* db, bool nested) : db_(db), nested_(nested) {}
  Db* db_ = nullptr;
  bool nested_ = false;  // a SAVEPOINT inside an outer transaction
};

}  // namespace villager::store
