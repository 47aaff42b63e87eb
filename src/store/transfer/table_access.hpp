// Row-level access to every table of a store, the same on SQLite and PostgreSQL, for the
// operator tools that work below the domain (docs/database.md `db copy`, docs/security.md
// `key rotate`). A table is described by the database's own catalog, so a column added by a
// later schema step is copied and checked without a change here. Values travel as text in
// one canonical form: an integer in decimal, text as is, a blob as its raw bytes.
// Not thread-safe; one command owns one TableAccess.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace provgate::store::transfer {

enum class ColumnKind : std::uint8_t { kInteger, kText, kBlob };

struct Column {
  std::string name;
  ColumnKind kind = ColumnKind::kText;
  int key_position = 0;  // 1, 2, ... within the primary key; 0 for a column outside it
  bool operator==(const Column&) const = default;
};

struct Table {
  std::string name;
  std::vector<Column> columns;  // in the table's column order
  // Indexes into `columns` of the primary key, in key order.
  std::vector<size_t> KeyColumns() const;
  // Indexes of the columns holding secretbox output: BLOB columns named *_enc (steps.cpp).
  std::vector<size_t> SealedColumns() const;
};

// A column's value; nullopt is NULL.
using Value = std::optional<std::string>;
using Row = std::vector<Value>;

enum class TransactionMode : std::uint8_t {
  kRead,   // a consistent snapshot for reading (SQLite BEGIN, PostgreSQL REPEATABLE READ)
  kWrite,  // the write lock up front (SQLite BEGIN IMMEDIATE, PostgreSQL BEGIN)
};

class TableAccess {
 public:
  virtual ~TableAccess() = default;

  // Names the database for messages, without a password: "sqlite:/var/lib/provgate.db".
  virtual std::string Describe() const = 0;
  // The highest applied schema step; 0 for a database that has none.
  virtual Result<int> SchemaVersion() = 0;
  // Applies pending schema steps (sqlite/migrate.hpp, postgres/migrate.hpp).
  virtual Status Migrate(std::int64_t now) = 0;
  // The store's tables in creation order (a table after those it references), without
  // schema_version and the engine's own tables.
  virtual Result<std::vector<Table>> Tables() = 0;

  // One transaction at a time; Rollback (also on destruction) undoes an uncommitted one.
  virtual Status Begin(TransactionMode mode) = 0;
  virtual Status Commit() = 0;
  virtual void Rollback() = 0;

  virtual Result<std::int64_t> CountRows(const Table& table) = 0;
  // Up to `limit` rows in primary-key order (text keys in byte order on both engines),
  // starting after the row whose key columns `after` holds, or at the first row.
  virtual Result<std::vector<Row>> ReadPage(const Table& table, const Row* after, size_t limit) = 0;
  // One non-NULL value of `column`, or nullopt when every row has NULL there.
  virtual Result<Value> AnyValue(const Table& table, size_t column) = 0;
  virtual Status Insert(const Table& table, const std::vector<Row>& rows) = 0;
  // Sets `columns` of each row to its values there, finding the row by its key columns.
  virtual Status Update(const Table& table, const std::vector<size_t>& columns, const std::vector<Row>& rows) = 0;
  // Moves the table's id counter (PostgreSQL identity) past its highest id, so a row
  // inserted after a copy gets a new id. SQLite's AUTOINCREMENT counter follows inserts.
  virtual Status AdvanceIdCounters(const Table& table) = 0;
};

Result<std::unique_ptr<TableAccess>> OpenSqliteTables(const std::filesystem::path& path);
Result<std::unique_ptr<TableAccess>> OpenPostgresTables(const std::string& url);
// "sqlite:PATH" or a PostgreSQL URL ("postgresql://..." or "postgres://...").
Result<std::unique_ptr<TableAccess>> OpenTables(std::string_view location);

// `name` as a double-quoted SQL identifier. For names read from the database's catalog.
std::string QuoteIdentifier(std::string_view name);
// "a", "b" for the columns of `t` at `indexes`, each quoted.
std::string ColumnList(const Table& t, const std::vector<size_t>& indexes);
// 0, 1, ... for every column of `t`.
std::vector<size_t> AllColumns(const Table& t);

}  // namespace provgate::store::transfer
