// Thin RAII layer over the SQLite C API for the SQLite store: one connection, a cache of
// prepared statements, and a transaction guard. Not thread-safe: the owner serialises access
// (SqliteStore holds a mutex around every use).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace provgate::store::sqlite {

// A prepared statement borrowed from a Connection's cache. Parameter and column indexes
// follow SQLite: parameters from 1, columns from 0. The destructor resets the statement and
// clears its bindings, so the next borrower starts clean and no bound value lingers.
class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Statement(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement& operator=(Statement&&) = delete;
  ~Statement();

  // Binding failures are remembered and reported by the next Step/Run.
  Statement& BindInt(int index, std::int64_t value);
  Statement& BindInt(int index, const std::optional<std::int64_t>& value);
  Statement& BindText(int index, std::string_view value);
  // Without SQLite's copy: `value` must stay valid until this Statement is destroyed (it
  // resets the statement and clears its bindings then). For the audit copy's rows, whose
  // text would otherwise be allocated and copied once more per column.
  Statement& BindTextUncopied(int index, std::string_view value);
  Statement& BindBlob(int index, const std::optional<std::vector<unsigned char>>& value);
  Statement& BindNull(int index);

  // True when a row is available, false when the statement is done.
  Result<bool> Step();
  // Steps to completion, for statements that return no rows.
  Status Run();
  // The extended result code of the last failed Step/Run, e.g. SQLITE_CONSTRAINT_UNIQUE,
  // so callers can turn constraint violations into domain errors.
  int last_error() const { return last_error_; }
  // Rows changed by the last completed INSERT/UPDATE/DELETE on this connection.
  std::int64_t Changes() const;
  std::int64_t LastInsertRowId() const;

  bool IsNull(int column) const;
  std::int64_t Int(int column) const;
  std::optional<std::int64_t> OptionalInt(int column) const;
  std::string Text(int column) const;  // NULL reads as ""
  std::optional<std::vector<unsigned char>> Blob(int column) const;

 private:
  void NoteBind(int rc);

  sqlite3* db_;
  sqlite3_stmt* stmt_;
  int bind_error_ = 0;
  int last_error_ = 0;
};

class Connection {
 public:
  // Opens (creating if needed) the database file read-write with extended result codes.
  static Result<Connection> Open(const std::filesystem::path& path);

  Connection(Connection&&) noexcept = default;
  Connection& operator=(Connection&&) noexcept = default;

  // Runs one or more statements that return no rows (DDL, PRAGMA setters, BEGIN/COMMIT).
  Status Exec(const char* sql);
  // Returns the cached prepared statement for `sql`, preparing it on first use. At most one
  // borrow per distinct statement may be alive at a time.
  Result<Statement> Prepare(std::string_view sql);
  // Runs a query whose first row's first column is the answer (PRAGMA getters, MAX(...)).
  Result<std::string> QueryText(std::string_view sql);

  sqlite3* handle() const { return db_.get(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  struct DbCloser {
    void operator()(sqlite3* db) const;
  };
  struct StmtFinalizer {
    void operator()(sqlite3_stmt* stmt) const;
  };

  Connection(std::unique_ptr<sqlite3, DbCloser> db, std::filesystem::path path)
      : db_(std::move(db)), path_(std::move(path)) {}

  // Declared before the cache so statements are finalized before the connection closes.
  std::unique_ptr<sqlite3, DbCloser> db_;
  std::map<std::string, std::unique_ptr<sqlite3_stmt, StmtFinalizer>, std::less<>> cache_;
  std::filesystem::path path_;
};

// BEGIN IMMEDIATE ... COMMIT; rolls back on destruction unless committed. IMMEDIATE takes
// the write lock up front, so two processes migrating at once serialise instead of failing
// half way with SQLITE_BUSY on lock upgrade.
class Transaction {
 public:
  static Result<Transaction> Begin(Connection& db);
  Transaction(Transaction&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();

  Status Commit();

 private:
  explicit Transaction(Connection& db) : db_(&db) {}
  Connection* db_;
};

// Maps an SQLite result code to a project error: busy/locked → kUnavailable, constraint
// violations → kInvalidArgument, everything else → kInternal.
Error ErrorFromSqlite(sqlite3* db, int rc, std::string_view context);

}  // namespace provgate::store::sqlite
