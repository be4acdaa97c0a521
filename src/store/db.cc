#include "store/db.h"

#include <sqlite3.h>

#include <utility>

namespace villager::store {

namespace {

// Statements are quoted in errors up to this length; schema DDL would otherwise swamp the message.
constexpr size_t kSqlContextMax = 120;

std::string sql_context(std::string_view sql) {
  std::string s;
  for (char c : sql) {
    if (c == '\n' || c == '\t') c = ' ';
    if (c == ' ' && !s.empty() && s.back() == ' ') continue;
    s.push_back(c);
  }
  while (!s.empty() && s.front() == ' ') s.erase(s.begin());
  if (s.size() > kSqlContextMax) s = s.substr(0, kSqlContextMax) + "...";
  return s;
}

Error make_error(sqlite3* db, int rc, std::string_view sql) {
  std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  std::string text = "sql '" + sql_context(sql) + "': " + msg;
  // "disk I/O error" alone does not say which call failed; the extended code does (SQLITE_IOERR_*).
  if ((rc & 0xff) == SQLITE_IOERR) text += " (sqlite extended code " + std::to_string(rc) + ")";
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Unavailable(text);
    case SQLITE_CONSTRAINT:
      return Conflict(text);
    case SQLITE_CANTOPEN:
      return NotFound(text);
    case SQLITE_PERM:
    case SQLITE_READONLY:
      return PermissionDenied(text);
    default:
      return Internal(text);
  }
}

}  // namespace

// ---- Statement ----

Statement::Statement(Statement&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)),
      stmt_(std::exchange(other.stmt_, nullptr)),
      sql_(std::move(other.sql_)),
      bind_error_(std::move(other.bind_error_)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    if (stmt_) sqlite3_finalize(stmt_);
    db_ = std::exchange(other.db_, nullptr);
    stmt_ = std::exchange(other.stmt_, nullptr);
    sql_ = std::move(other.sql_);
    bind_error_ = std::move(other.bind_error_);
  }
  return *this;
}

Statement::~Statement() {
  if (stmt_) sqlite3_finalize(stmt_);
}

Error Statement::error_here(int rc) const {
  return make_error(db_, rc, sql_);
}

void Statement::note_bind(int rc) {
  if (rc != SQLITE_OK && !bind_error_) bind_error_ = error_here(rc).context("binding");
}

Statement& Statement::bind(int index, int64_t value) {
  note_bind(sqlite3_bind_int64(stmt_, index, value));
  return *this;
}

Statement& Statement::bind(int index, double value) {
  note_bind(sqlite3_bind_double(stmt_, index, value));
  return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
  note_bind(sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
  return *this;
}

Statement& Statement::bind(int index, std::nullopt_t) {
  note_bind(sqlite3_bind_null(stmt_, index));
  return *this;
}

Statement& Statement::bind(int index, const std::optional<int64_t>& value) {
  return value ? bind(index, *value) : bind(index, std::nullopt);
}

Result<bool> Statement::step() {
  if (bind_error_) return *bind_error_;
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Error err = error_here(rc);
  sqlite3_reset(stmt_);
  return err;
}

Status Statement::run() {
  for (;;) {
    Result<bool> r = step();
    if (!r) return r.error();
    if (!*r) return Ok();
  }
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_error_.reset();
}

bool Statement::column_is_null(int col) const {
  return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}
int64_t Statement::column_int(int col) const {
  return sqlite3_column_int64(stmt_, col);
}
double Statement::column_double(int col) const {
  return sqlite3_column_double(stmt_, col);
}

std::string Statement::column_text(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  int n = sqlite3_column_bytes(stmt_, col);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
}

std::optional<int64_t> Statement::column_optional_int(int col) const {
  if (column_is_null(col)) return std::nullopt;
  return column_int(col);
}

// ---- Db ----

Result<std::string> Db::image() {
  sqlite3_int64 size = 0;
  unsigned char* bytes = sqlite3_serialize(db_, "main", &size, 0);
  if (!bytes) return make_error(db_, sqlite3_errcode(db_), "serialize").context("reading " + path_.string());
  std::string out(reinterpret_cast<const char*>(bytes), static_cast<size_t>(size));
  sqlite3_free(bytes);
  return out;
}

Result<Db> Db::open(const std::filesystem::path& path, bool create) {
  sqlite3* raw = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  if (rc != SQLITE_OK) {
    Error err = make_error(raw, rc, "open");
    sqlite3_close(raw);
    return err.context("opening " + path.string());
  }
  sqlite3_extended_result_codes(raw, 1);
  Db db;
  db.db_ = raw;
  db.path_ = path;
  return db;
}

Db::Db(Db&& other) noexcept : db_(std::exchange(other.db_, nullptr)), path_(std::move(other.path_)) {}

Db& Db::operator=(Db&& other) noexcept {
  if (this != &other) {
    if (db_) sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
    path_ = std::move(other.path_);
  }
  return *this;
}

Db::~Db() {
  // close_v2 defers the close until every statement is finalized, so destruction order cannot leak.
  if (db_) sqlite3_close_v2(db_);
}

Status Db::exec(std::string_view sql) {
  std::string text(sql);
  char* msg = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &msg);
  sqlite3_free(msg);
  if (rc != SQLITE_OK) return make_error(db_, rc, sql);
  return Ok();
}

Result<Statement> Db::prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) return make_error(db_, rc, sql);
  return Statement(db_, stmt, std::string(sql));
}

Result<int64_t> Db::query_int(std::string_view sql) {
  Result<Statement> st = prepare(sql);
  if (!st) return st.error();
  Result<bool> row = st->step();
  if (!row) return row.error();
  if (!*row) return NotFound("sql '" + sql_context(sql) + "': no row");
  return st->column_int(0);
}

Result<std::string> Db::query_text(std::string_view sql) {
  Result<Statement> st = prepare(sql);
  if (!st) return st.error();
  Result<bool> row = st->step();
  if (!row) return row.error();
  if (!*row) return NotFound("sql '" + sql_context(sql) + "': no row");
  return st->column_text(0);
}

int64_t Db::last_insert_rowid() const {
  return sqlite3_last_insert_rowid(db_);
}
int Db::changes() const {
  return sqlite3_changes(db_);
}
bool Db::in_transaction() const {
  return sqlite3_get_autocommit(db_) == 0;
}

// ---- Transaction ----

Result<Transaction> Transaction::begin(Db& db, Mode mode) {
  if (db.in_transaction()) {
    VILLAGER_RETURN_IF_ERROR(db.exec("SAVEPOINT villager_nested"));
    return Transaction(&db, true);
  }
  VILLAGER_RETURN_IF_ERROR(db.exec(mode == Mode::kImmediate ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED"));
  return Transaction(&db, false);
}

Transaction::Transaction(Transaction&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), nested_(other.nested_) {}

Transaction::~Transaction() {
  if (db_) (void)rollback();
}

Status Transaction::commit() {
  if (!db_) return FailedPrecondition("transaction already finished");
  Status s = db_->exec(nested_ ? "RELEASE villager_nested" : "COMMIT");
  if (!s.ok()) return s;  // still open: the destructor rolls it back
  db_ = nullptr;
  return Ok();
}

Status Transaction::rollback() {
  if (!db_) return Ok();
  Db* db = std::exchange(db_, nullptr);
  if (nested_) return db->exec("ROLLBACK TO villager_nested; RELEASE villager_nested");
  // A failed COMMIT or an I/O error may already have ended the transaction.
  if (!db->in_transaction()) return Ok();
  return db->exec("ROLLBACK");
}

}  // namespace villager::store
