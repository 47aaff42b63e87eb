// TableAccess on SQLite (store/transfer/table_access.hpp): the catalog from sqlite_schema
// and pragma_table_info, keyset paging with row values, statements built from the catalog's
// names and run with bound values.
#include <fmt/format.h>
#include <sqlite3.h>

#include <charconv>
#include <optional>

#include "store/sqlite/connection.hpp"
#include "store/sqlite/migrate.hpp"
#include "store/transfer/table_access.hpp"

namespace provgate::store::transfer {
namespace {

using sqlite::Connection;
using sqlite::Statement;

constexpr int kBusyTimeoutMs = 5000;

// "?1, ?2, ..." from `first`, `count` of them.
std::string Placeholders(int first, size_t count) {
  std::string out;
  for (size_t i = 0; i < count; ++i) {
    if (!out.empty()) out += ", ";
    out += fmt::format("?{}", first + static_cast<int>(i));
  }
  return out;
}

Status Bind(Statement& s, int index, ColumnKind kind, const Value& v) {
  if (!v) {
    s.BindNull(index);
    return Ok();
  }
  switch (kind) {
    case ColumnKind::kInteger: {
      std::int64_t n = 0;
      const auto* end = v->data() + v->size();
      if (auto r = std::from_chars(v->data(), end, n); r.ec != std::errc() || r.ptr != end) {
        return Error::InvalidArgument(fmt::format("'{}' is not an integer", *v));
      }
      s.BindInt(index, n);
      return Ok();
    }
    case ColumnKind::kText: s.BindText(index, *v); return Ok();
    case ColumnKind::kBlob: s.BindBlob(index, std::vector<unsigned char>(v->begin(), v->end())); return Ok();
  }
  return Ok();
}

Value Read(const Statement& s, int column, ColumnKind kind) {
  if (s.IsNull(column)) return std::nullopt;
  switch (kind) {
    case ColumnKind::kInteger: return std::to_string(s.Int(column));
    case ColumnKind::kText: return s.Text(column);
    case ColumnKind::kBlob: {
      auto blob = s.Blob(column);
      return blob ? std::string(blob->begin(), blob->end()) : std::string();
    }
  }
  return std::nullopt;
}

Result<ColumnKind> KindOf(const std::string& table, const std::string& column, const std::string& declared) {
  if (declared == "INTEGER") return ColumnKind::kInteger;
  if (declared == "TEXT") return ColumnKind::kText;
  if (declared == "BLOB") return ColumnKind::kBlob;
  return Error::Internal(
      fmt::format("column {}.{} has type '{}', which the store does not use", table, column, declared));
}

class SqliteTables final : public TableAccess {
 public:
  explicit SqliteTables(Connection db) : db_(std::move(db)) {}
  ~SqliteTables() override { Rollback(); }
  SqliteTables(const SqliteTables&) = delete;
  SqliteTables& operator=(const SqliteTables&) = delete;

  std::string Describe() const override { return "sqlite:" + db_.path().string(); }

  Result<int> SchemaVersion() override {
    PG_TRY(std::string tables, db_.QueryText("SELECT COUNT(*) FROM sqlite_schema WHERE name = 'schema_version'"));
    if (tables == "0") return 0;
    return sqlite::CurrentSchemaVersion(db_);
  }

  Status Migrate(std::int64_t now) override { return sqlite::Migrate(db_, now); }

  Result<std::vector<Table>> Tables() override {
    std::vector<Table> tables;
    {
      PG_TRY(Statement names, db_.Prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE "
                                          "'sqlite\\_%' ESCAPE '\\' AND name <> 'schema_version' ORDER BY rowid"));
      for (;;) {
        PG_TRY(bool row, names.Step());
        if (!row) break;
        tables.push_back(Table{.name = names.Text(0), .columns = {}});
      }
    }
    for (auto& t : tables) {
      PG_TRY(Statement cols, db_.Prepare("SELECT name, type, pk FROM pragma_table_info(?1) ORDER BY cid"));
      cols.BindText(1, t.name);
      for (;;) {
        PG_TRY(bool row, cols.Step());
        if (!row) break;
        PG_TRY(ColumnKind kind, KindOf(t.name, cols.Text(0), cols.Text(1)));
        t.columns.push_back(Column{.name = cols.Text(0), .kind = kind, .key_position = static_cast<int>(cols.Int(2))});
      }
      if (t.KeyColumns().empty()) return Error::Internal(fmt::format("table {} has no primary key", t.name));
    }
    return tables;
  }

  Status Begin(TransactionMode mode) override {
    PG_TRY_STATUS(db_.Exec(mode == TransactionMode::kWrite ? "BEGIN IMMEDIATE" : "BEGIN"));
    open_ = true;
    return Ok();
  }

  Status Commit() override {
    open_ = false;
    auto committed = db_.Exec("COMMIT");
    if (!committed) (void)db_.Exec("ROLLBACK");
    return committed;
  }

  void Rollback() override {
    if (open_) (void)db_.Exec("ROLLBACK");
    open_ = false;
  }

  Result<std::int64_t> CountRows(const Table& t) override {
    PG_TRY(Statement s, db_.Prepare("SELECT COUNT(*) FROM " + QuoteIdentifier(t.name)));
    PG_TRY(bool row, s.Step());
    return row ? s.Int(0) : 0;
  }

  Result<std::vector<Row>> ReadPage(const Table& t, const Row* after, size_t limit) override {
    const auto key = t.KeyColumns();
    std::string sql = "SELECT " + ColumnList(t, AllColumns(t)) + " FROM " + QuoteIdentifier(t.name);
    if (after != nullptr) sql += " WHERE (" + ColumnList(t, key) + ") > (" + Placeholders(1, key.size()) + ")";
    sql += " ORDER BY " + ColumnList(t, key) + fmt::format(" LIMIT {}", limit);
    PG_TRY(Statement s, db_.Prepare(sql));
    if (after != nullptr) {
      for (size_t k = 0; k < key.size(); ++k) {
        PG_TRY_STATUS(Bind(s, static_cast<int>(k) + 1, t.columns[key[k]].kind, (*after)[key[k]]));
      }
    }
    std::vector<Row> rows;
    for (;;) {
      PG_TRY(bool more, s.Step());
      if (!more) return rows;
      Row row(t.columns.size());
      for (size_t c = 0; c < t.columns.size(); ++c) row[c] = Read(s, static_cast<int>(c), t.columns[c].kind);
      rows.push_back(std::move(row));
    }
  }

  Result<Value> AnyValue(const Table& t, size_t column) override {
    const std::string name = QuoteIdentifier(t.columns[column].name);
    PG_TRY(Statement s, db_.Prepare("SELECT " + name + " FROM " + QuoteIdentifier(t.name) + " WHERE " + name +
                                    " IS NOT NULL LIMIT 1"));
    PG_TRY(bool row, s.Step());
    if (!row) return Value();
    return Read(s, 0, t.columns[column].kind);
  }

  Status Insert(const Table& t, const std::vector<Row>& rows) override {
    const std::string sql = "INSERT INTO " + QuoteIdentifier(t.name) + " (" + ColumnList(t, AllColumns(t)) +
                            ") VALUES (" + Placeholders(1, t.columns.size()) + ")";
    for (const auto& row : rows) {
      PG_TRY(Statement s, db_.Prepare(sql));
      for (size_t c = 0; c < t.columns.size(); ++c) {
        PG_TRY_STATUS(Bind(s, static_cast<int>(c) + 1, t.columns[c].kind, row[c]));
      }
      PG_TRY_STATUS(s.Run());
    }
    return Ok();
  }

  Status Update(const Table& t, const std::vector<size_t>& columns, const std::vector<Row>& rows) override {
    const auto key = t.KeyColumns();
    std::string sets;
    for (size_t i = 0; i < columns.size(); ++i) {
      if (!sets.empty()) sets += ", ";
      sets += fmt::format("{} = ?{}", QuoteIdentifier(t.columns[columns[i]].name), i + 1);
    }
    const std::string sql = "UPDATE " + QuoteIdentifier(t.name) + " SET " + sets + " WHERE (" + ColumnList(t, key) +
                            ") = (" + Placeholders(static_cast<int>(columns.size()) + 1, key.size()) + ")";
    for (const auto& row : rows) {
      PG_TRY(Statement s, db_.Prepare(sql));
      int index = 1;
      for (size_t c : columns) PG_TRY_STATUS(Bind(s, index++, t.columns[c].kind, row[c]));
      for (size_t c : key) PG_TRY_STATUS(Bind(s, index++, t.columns[c].kind, row[c]));
      PG_TRY_STATUS(s.Run());
      if (s.Changes() != 1) return Error::Internal(fmt::format("a row of {} vanished during the update", t.name));
    }
    return Ok();
  }

  Status AdvanceIdCounters(const Table& /*table*/) override { return Ok(); }

 private:
  Connection db_;
  bool open_ = false;
};

}  // namespace

Result<std::unique_ptr<TableAccess>> OpenSqliteTables(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return Error::NotFound(
        fmt::format("no SQLite database at {} (create one with provgate db migrate)", path.string()));
  }
  PG_TRY(Connection db, Connection::Open(path));
  if (int rc = sqlite3_busy_timeout(db.handle(), kBusyTimeoutMs); rc != SQLITE_OK) {
    return sqlite::ErrorFromSqlite(db.handle(), rc, "setting busy timeout");
  }
  // FULL: a commit is on disk before it returns, even in WAL mode. Key rotation replaces the
  // key file only after its commit, so that commit must survive a power cut.
  PG_TRY_STATUS(db.Exec("PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL"));
  return std::unique_ptr<TableAccess>(new SqliteTables(std::move(db)));
}

}  // namespace provgate::store::transfer
