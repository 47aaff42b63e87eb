// TableAccess on PostgreSQL (store/transfer/table_access.hpp): the catalog from pg_class and
// pg_attribute in the connection's search_path schema, keyset paging with row values (text
// keys compared under COLLATE "C", byte order, as SQLite compares them), statements built
// from the catalog's names and run with bound parameters.
#include <fmt/format.h>

#include "store/postgres/connection.hpp"
#include "store/postgres/migrate.hpp"
#include "store/transfer/table_access.hpp"

namespace provgate::store::transfer {
namespace {

using postgres::Connection;
using postgres::Params;

// Rows per round trip when inserting or updating.
constexpr size_t kBatchRows = 500;

// A key column as it is ordered and compared: text in byte order.
std::string KeyTerm(const Column& c) {
  return QuoteIdentifier(c.name) + (c.kind == ColumnKind::kText ? " COLLATE \"C\"" : "");
}

std::string KeyList(const Table& t) {
  std::string out;
  for (size_t i : t.KeyColumns()) {
    if (!out.empty()) out += ", ";
    out += KeyTerm(t.columns[i]);
  }
  return out;
}

std::string Placeholders(int first, size_t count) {
  std::string out;
  for (size_t i = 0; i < count; ++i) {
    if (!out.empty()) out += ", ";
    out += fmt::format("${}", first + static_cast<int>(i));
  }
  return out;
}

// Integers travel as text with their type, so a value read from SQLite is bound unchanged.
void Bind(Params& p, int index, ColumnKind kind, const Value& v) {
  if (!v) {
    p.BindNull(index);
  } else if (kind == ColumnKind::kBlob) {
    p.BindBlob(index, std::vector<unsigned char>(v->begin(), v->end()));
  } else if (kind == ColumnKind::kInteger) {
    p.BindInt(index, std::stoll(*v));
  } else {
    p.BindText(index, *v);
  }
}

Value Read(const postgres::Row& r, int column, ColumnKind kind) {
  if (r.IsNull(column)) return std::nullopt;
  if (kind == ColumnKind::kBlob) {
    auto blob = r.Blob(column);
    return blob ? std::string(blob->begin(), blob->end()) : std::string();
  }
  return r.Text(column);
}

Result<ColumnKind> KindOf(const std::string& table, const std::string& column, const std::string& type) {
  if (type == "int8" || type == "int4" || type == "int2") return ColumnKind::kInteger;
  if (type == "text") return ColumnKind::kText;
  if (type == "bytea") return ColumnKind::kBlob;
  return Error::Internal(fmt::format("column {}.{} has type '{}', which the store does not use", table, column, type));
}

class PostgresTables final : public TableAccess {
 public:
  PostgresTables(Connection db, std::string url) : db_(std::move(db)), url_(std::move(url)) {}
  ~PostgresTables() override { Rollback(); }
  PostgresTables(const PostgresTables&) = delete;
  PostgresTables& operator=(const PostgresTables&) = delete;

  std::string Describe() const override { return postgres::RedactUrl(url_); }

  Result<int> SchemaVersion() override {
    PG_TRY(auto exists, db_.Exec("SELECT to_regclass('schema_version') IS NOT NULL"));
    if (exists[0].Text(0) != "t") return 0;
    return postgres::CurrentSchemaVersion(db_);
  }

  Status Migrate(std::int64_t now) override { return postgres::Migrate(db_, now); }

  Result<std::vector<Table>> Tables() override {
    // OID order is creation order: a table after those it references.
    PG_TRY(auto names,
           db_.Exec("SELECT c.relname FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace "
                    "AND c.relkind = 'r' AND c.relname <> 'schema_version' ORDER BY c.oid"));
    std::vector<Table> tables;
    tables.reserve(static_cast<size_t>(names.size()));
    for (int i = 0; i < names.size(); ++i) tables.push_back(Table{.name = names[i].Text(0), .columns = {}});
    for (auto& t : tables) {
      Params p;
      p.BindText(1, QuoteIdentifier(t.name));
      // indkey is an int2vector, indexed from 0: its position is counted with ORDINALITY.
      PG_TRY(auto cols, db_.Exec("SELECT a.attname, t.typname, COALESCE((SELECT k.n FROM pg_index i, "
                                 "unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, n) WHERE i.indrelid = "
                                 "a.attrelid AND i.indisprimary AND k.attnum = a.attnum), 0) "
                                 "FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid WHERE a.attrelid = "
                                 "$1::text::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
                                 p));
      for (int r = 0; r < cols.size(); ++r) {
        PG_TRY(ColumnKind kind, KindOf(t.name, cols[r].Text(0), cols[r].Text(1)));
        t.columns.push_back(
            Column{.name = cols[r].Text(0), .kind = kind, .key_position = static_cast<int>(cols[r].Int(2))});
      }
      if (t.KeyColumns().empty()) return Error::Internal(fmt::format("table {} has no primary key", t.name));
    }
    return tables;
  }

  Status Begin(TransactionMode mode) override {
    PG_TRY_STATUS(
        db_.ExecScript(mode == TransactionMode::kRead ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN"));
    open_ = true;
    return Ok();
  }

  Status Commit() override {
    open_ = false;
    return db_.ExecScript("COMMIT");
  }

  void Rollback() override {
    if (open_) (void)db_.ExecScript("ROLLBACK");
    open_ = false;
  }

  Result<std::int64_t> CountRows(const Table& t) override {
    PG_TRY(auto rows, db_.Exec("SELECT COUNT(*) FROM " + QuoteIdentifier(t.name)));
    return rows[0].Int(0);
  }

  Result<std::vector<Row>> ReadPage(const Table& t, const Row* after, size_t limit) override {
    const auto key = t.KeyColumns();
    std::string sql = "SELECT " + ColumnList(t, AllColumns(t)) + " FROM " + QuoteIdentifier(t.name);
    if (after != nullptr) sql += " WHERE (" + KeyList(t) + ") > (" + Placeholders(1, key.size()) + ")";
    sql += " ORDER BY " + KeyList(t) + fmt::format(" LIMIT {}", limit);
    Params p;
    if (after != nullptr) {
      for (size_t k = 0; k < key.size(); ++k)
        Bind(p, static_cast<int>(k) + 1, t.columns[key[k]].kind, (*after)[key[k]]);
    }
    PG_TRY(auto result, db_.Exec(sql, p));
    std::vector<Row> rows;
    rows.reserve(static_cast<size_t>(result.size()));
    for (int r = 0; r < result.size(); ++r) {
      Row row(t.columns.size());
      for (size_t c = 0; c < t.columns.size(); ++c) row[c] = Read(result[r], static_cast<int>(c), t.columns[c].kind);
      rows.push_back(std::move(row));
    }
    return rows;
  }

  Result<Value> AnyValue(const Table& t, size_t column) override {
    const std::string name = QuoteIdentifier(t.columns[column].name);
    PG_TRY(auto rows,
           db_.Exec("SELECT " + name + " FROM " + QuoteIdentifier(t.name) + " WHERE " + name + " IS NOT NULL LIMIT 1"));
    if (rows.empty()) return Value();
    return Read(rows[0], 0, t.columns[column].kind);
  }

  Status Insert(const Table& t, const std::vector<Row>& rows) override {
    const std::string sql = "INSERT INTO " + QuoteIdentifier(t.name) + " (" + ColumnList(t, AllColumns(t)) +
                            ") VALUES (" + Placeholders(1, t.columns.size()) + ")";
    return RunBatches(sql, rows, [&t](const Row& row) {
      Params p;
      for (size_t c = 0; c < t.columns.size(); ++c) Bind(p, static_cast<int>(c) + 1, t.columns[c].kind, row[c]);
      return p;
    });
  }

  Status Update(const Table& t, const std::vector<size_t>& columns, const std::vector<Row>& rows) override {
    const auto key = t.KeyColumns();
    std::string sets;
    for (size_t i = 0; i < columns.size(); ++i) {
      if (!sets.empty()) sets += ", ";
      sets += fmt::format("{} = ${}", QuoteIdentifier(t.columns[columns[i]].name), i + 1);
    }
    const std::string sql = "UPDATE " + QuoteIdentifier(t.name) + " SET " + sets + " WHERE (" + ColumnList(t, key) +
                            ") = (" + Placeholders(static_cast<int>(columns.size()) + 1, key.size()) + ")";
    return RunBatches(sql, rows, [&](const Row& row) {
      Params p;
      int index = 1;
      for (size_t c : columns) Bind(p, index++, t.columns[c].kind, row[c]);
      for (size_t c : key) Bind(p, index++, t.columns[c].kind, row[c]);
      return p;
    });
  }

  Status AdvanceIdCounters(const Table& t) override {
    for (const auto& c : t.columns) {
      if (c.kind != ColumnKind::kInteger || c.key_position == 0) continue;
      Params p;
      p.BindText(1, QuoteIdentifier(t.name));
      p.BindText(2, c.name);
      // setval is strict: a column without a sequence or a table without rows changes nothing.
      PG_TRY_STATUS(db_.Run("SELECT setval(pg_get_serial_sequence($1, $2), (SELECT MAX(" + QuoteIdentifier(c.name) +
                                ") FROM " + QuoteIdentifier(t.name) + "))",
                            p));
    }
    return Ok();
  }

 private:
  template <class MakeParams>
  Status RunBatches(const std::string& sql, const std::vector<Row>& rows, MakeParams make) {
    std::vector<Params> batch;
    for (const auto& row : rows) {
      batch.push_back(make(row));
      if (batch.size() == kBatchRows) {
        PG_TRY_STATUS(db_.RunEach(sql, batch));
        batch.clear();
      }
    }
    if (!batch.empty()) PG_TRY_STATUS(db_.RunEach(sql, batch));
    return Ok();
  }

  Connection db_;
  std::string url_;
  bool open_ = false;
};

}  // namespace

Result<std::unique_ptr<TableAccess>> OpenPostgresTables(const std::string& url) {
  PG_TRY(Connection db, Connection::Open(url));
  return std::unique_ptr<TableAccess>(new PostgresTables(std::move(db), url));
}

}  // namespace provgate::store::transfer
