#include "store/sqlite/connection.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

namespace provgate::store::sqlite {

Error ErrorFromSqlite(sqlite3* db, int rc, std::string_view context) {
  // sqlite3_errmsg describes the most recent failure on `db`, which is this one because the
  // connection is used by one thread at a time. It never contains bound values.
  std::string detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  std::string message = fmt::format("{}: {}", context, detail);
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return Error::Unavailable(std::move(message));
    case SQLITE_CONSTRAINT: return Error::InvalidArgument(std::move(message));
    default: return Error::Internal(std::move(message));
  }
}

// --- Statement ---

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_), stmt_(other.stmt_), bind_error_(other.bind_error_), last_error_(other.last_error_) {
  other.stmt_ = nullptr;
}

Statement::~Statement() {
  if (stmt_ == nullptr) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

void Statement::NoteBind(int rc) {
  if (rc != SQLITE_OK && bind_error_ == SQLITE_OK) bind_error_ = rc;
}

Statement& Statement::BindInt(int index, std::int64_t value) {
  NoteBind(sqlite3_bind_int64(stmt_, index, value));
  return *this;
}

Statement& Statement::BindInt(int index, const std::optional<std::int64_t>& value) {
  return value ? BindInt(index, *value) : BindNull(index);
}

Statement& Statement::BindText(int index, std::string_view value) {
  // SQLITE_TRANSIENT copies: the caller's buffer may die before the statement is reset.
  NoteBind(sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
  return *this;
}

Statement& Statement::BindTextUncopied(int index, std::string_view value) {
  NoteBind(sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_STATIC, SQLITE_UTF8));
  return *this;
}

Statement& Statement::BindBlob(int index, const std::optional<std::vector<unsigned char>>& value) {
  if (!value) return BindNull(index);
  // A zero-length blob must stay a blob, not NULL; zeroblob does that without a pointer.
  if (value->empty()) {
    NoteBind(sqlite3_bind_zeroblob(stmt_, index, 0));
  } else {
    NoteBind(sqlite3_bind_blob64(stmt_, index, value->data(), value->size(), SQLITE_TRANSIENT));
  }
  return *this;
}

Statement& Statement::BindNull(int index) {
  NoteBind(sqlite3_bind_null(stmt_, index));
  return *this;
}

Result<bool> Statement::Step() {
  if (bind_error_ != SQLITE_OK) {
    last_error_ = bind_error_;
    return ErrorFromSqlite(db_, bind_error_, fmt::format("binding {}", sqlite3_sql(stmt_)));
  }
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  last_error_ = rc;
  return ErrorFromSqlite(db_, rc, sqlite3_sql(stmt_));
}

Status Statement::Run() {
  for (;;) {
    PG_TRY(bool row, Step());
    if (!row) return Ok();
  }
}

std::int64_t Statement::Changes() const { return sqlite3_changes64(db_); }
std::int64_t Statement::LastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }

bool Statement::IsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

std::int64_t Statement::Int(int column) const { return sqlite3_column_int64(stmt_, column); }

std::optional<std::int64_t> Statement::OptionalInt(int column) const {
  if (IsNull(column)) return std::nullopt;
  return Int(column);
}

std::string Statement::Text(int column) const {
  // Per the SQLite docs: fetch the pointer first, then the byte count.
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  const int n = sqlite3_column_bytes(stmt_, column);
  if (text == nullptr || n <= 0) return {};
  return std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(n));
}

std::optional<std::vector<unsigned char>> Statement::Blob(int column) const {
  if (IsNull(column)) return std::nullopt;
  const auto* data = static_cast<const unsigned char*>(sqlite3_column_blob(stmt_, column));
  const int n = sqlite3_column_bytes(stmt_, column);
  if (data == nullptr || n <= 0) return std::vector<unsigned char>{};
  return std::vector<unsigned char>(data, data + n);
}

// --- Connection ---

void Connection::DbCloser::operator()(sqlite3* db) const { sqlite3_close_v2(db); }
void Connection::StmtFinalizer::operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }

Result<Connection> Connection::Open(const std::filesystem::path& path) {
  sqlite3* raw = nullptr;
  // NOMUTEX: SqliteStore serialises access itself; a second lock inside SQLite buys nothing.
  int rc =
      sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  std::unique_ptr<sqlite3, DbCloser> db(raw);  // a handle is returned even on failure
  if (rc != SQLITE_OK) {
    return ErrorFromSqlite(db.get(), rc, fmt::format("opening database {}", path.string()));
  }
  sqlite3_extended_result_codes(db.get(), 1);
  return Connection(std::move(db), path);
}

Status Connection::Exec(const char* sql) {
  char* errmsg = nullptr;
  int rc = sqlite3_exec(db_.get(), sql, nullptr, nullptr, &errmsg);
  sqlite3_free(errmsg);  // the same text is available from sqlite3_errmsg
  if (rc != SQLITE_OK) {
    return ErrorFromSqlite(db_.get(), rc, fmt::format("database {}", path_.string()));
  }
  return Ok();
}

Result<Statement> Connection::Prepare(std::string_view sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &raw,
                                nullptr);
    std::unique_ptr<sqlite3_stmt, StmtFinalizer> stmt(raw);
    if (rc != SQLITE_OK) {
      return ErrorFromSqlite(db_.get(), rc, fmt::format("preparing {}", sql));
    }
    if (!stmt) return Error::Internal(fmt::format("preparing {}: empty statement", sql));
    it = cache_.emplace(std::string(sql), std::move(stmt)).first;
  }
  return Statement(db_.get(), it->second.get());
}

Result<std::string> Connection::QueryText(std::string_view sql) {
  PG_TRY(Statement stmt, Prepare(sql));
  PG_TRY(bool row, stmt.Step());
  if (!row) return Error::Internal(fmt::format("{} returned no row", sql));
  return stmt.Text(0);
}

// --- Transaction ---

Result<Transaction> Transaction::Begin(Connection& db) {
  PG_TRY_STATUS(db.Exec("BEGIN IMMEDIATE"));
  return Transaction(db);
}

Transaction::~Transaction() {
  // Best effort: a failed ROLLBACK leaves SQLite to roll back when the connection closes.
  if (db_ != nullptr) (void)db_->Exec("ROLLBACK");
}

Status Transaction::Commit() {
  Connection* db = db_;
  db_ = nullptr;
  auto committed = db->Exec("COMMIT");
  if (!committed) (void)db->Exec("ROLLBACK");
  return committed;
}

}  // namespace provgate::store::sqlite
