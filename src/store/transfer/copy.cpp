#include "store/transfer/copy.hpp"

#include <fmt/format.h>
#include <algorithm>

#include "crypto/random.hpp"
#include "store/schema/steps.hpp"

namespace provgate::store::transfer {
namespace {

constexpr size_t kPageRows = 1000;

class Summer {
 public:
  void Add(const Table& t, const Row& row) {
    for (size_t c = 0; c < row.size(); ++c) {
      const auto& v = row[c];
      if (!v) {
        Feed("N");
        continue;
      }
      const ColumnKind kind = t.columns[c].kind;
      const char tag = kind == ColumnKind::kInteger ? 'I' : kind == ColumnKind::kText ? 'T' : 'B';
      Feed(fmt::format("{}{}:", tag, v->size()));
      Feed(*v);
    }
    ++rows_;
  }
  TableSum Finish() { return TableSum{.rows = rows_, .sha256 = state_.FinishHex()}; }

 private:
  void Feed(std::string_view bytes) { state_.Update(bytes); }
  crypto::Sha256 state_;
  std::int64_t rows_ = 0;
};

// Calls `each` with every page of `table` in key order.
template <class Each>
Status ForEachPage(TableAccess& db, const Table& table, Each each) {
  std::optional<Row> last;
  for (;;) {
    PG_TRY(auto page, db.ReadPage(table, last ? &*last : nullptr, kPageRows));
    if (page.empty()) return Ok();
    PG_TRY_STATUS(each(page));
    if (page.size() < kPageRows) return Ok();
    last = std::move(page.back());
  }
}

Status CheckVersions(TableAccess& from, TableAccess& to, MigrateTarget migrate, std::int64_t now) {
  const int latest = schema::LatestSchemaVersion();
  PG_TRY(int source, from.SchemaVersion());
  if (source != latest) {
    return Error::FailedPrecondition(
        fmt::format("source {} has schema version {}, this provgate writes {}: migrate it first (provgate db migrate)",
                    from.Describe(), source, latest));
  }
  if (migrate == MigrateTarget::kYes) PG_TRY_STATUS(to.Migrate(now));
  PG_TRY(int target, to.SchemaVersion());
  if (target != latest) {
    return Error::FailedPrecondition(fmt::format(
        "target {} has schema version {}, the source {}: migrate it first (provgate db migrate, or --migrate-target)",
        to.Describe(), target, latest));
  }
  return Ok();
}

// The tables of `from`, after checking that `to` has the same ones with the same columns.
Result<std::vector<Table>> MatchTables(TableAccess& from, TableAccess& to) {
  PG_TRY(auto source, from.Tables());
  PG_TRY(auto target, to.Tables());
  auto by_name = [](const Table& a, const Table& b) { return a.name < b.name; };
  auto sorted_source = source;
  std::ranges::sort(sorted_source, by_name);
  std::ranges::sort(target, by_name);
  auto describe = [](const std::vector<Table>& tables) {
    std::string out;
    for (const auto& t : tables) {
      auto columns = t.columns;
      std::ranges::sort(columns, {}, &Column::name);
      out += t.name + "(";
      for (const auto& c : columns) out += fmt::format("{}:{}:{} ", c.name, static_cast<int>(c.kind), c.key_position);
      out += ") ";
    }
    return out;
  };
  if (describe(sorted_source) != describe(target)) {
    return Error::FailedPrecondition(fmt::format(
        "the tables of {} and {} differ although their schema versions match; was one of them changed by hand?",
        from.Describe(), to.Describe()));
  }
  return source;
}

Status RequireEmpty(TableAccess& to, const std::vector<Table>& tables) {
  for (const auto& t : tables) {
    PG_TRY(std::int64_t rows, to.CountRows(t));
    if (rows != 0) {
      return Error::FailedPrecondition(fmt::format(
          "target {} is not empty: table {} has {} rows. db copy only fills an empty store; drop and re-create "
          "the target database (or use a new SQLite file) and run the copy again",
          to.Describe(), t.name, rows));
    }
  }
  return Ok();
}

Result<TableSum> CopyTable(TableAccess& from, TableAccess& to, const Table& table) {
  Summer sum;
  PG_TRY_STATUS(ForEachPage(from, table, [&](const std::vector<Row>& page) -> Status {
    for (const auto& row : page) sum.Add(table, row);
    return to.Insert(table, page);
  }));
  PG_TRY_STATUS(to.AdvanceIdCounters(table));
  return sum.Finish();
}

}  // namespace

Result<TableSum> SumTable(TableAccess& db, const Table& table) {
  Summer sum;
  PG_TRY_STATUS(ForEachPage(db, table, [&](const std::vector<Row>& page) -> Status {
    for (const auto& row : page) sum.Add(table, row);
    return Ok();
  }));
  return sum.Finish();
}

Result<CopyReport> CopyStore(TableAccess& from, TableAccess& to, MigrateTarget migrate, std::int64_t now) {
  PG_TRY_STATUS(CheckVersions(from, to, migrate, now));
  PG_TRY(auto tables, MatchTables(from, to));
  PG_TRY_STATUS(from.Begin(TransactionMode::kRead));
  PG_TRY_STATUS(to.Begin(TransactionMode::kWrite));
  PG_TRY_STATUS(RequireEmpty(to, tables));
  CopyReport report;
  for (const auto& t : tables) {
    PG_TRY(TableSum source, CopyTable(from, to, t));
    // The sums on both sides come from the same key-order reader: a row it cannot reach (a
    // NULL or oddly typed key in a crafted source) would be missing from both. Count apart.
    PG_TRY(std::int64_t counted, from.CountRows(t));
    if (counted != source.rows) {
      from.Rollback();
      to.Rollback();
      return Error::FailedPrecondition(fmt::format(
          "source table {} has {} rows but only {} can be read in key order (a NULL or mixed-type primary key?): "
          "nothing was copied; repair the source first",
          t.name, counted, source.rows));
    }
    report.tables.push_back(TableCopy{.table = t.name, .source = source, .target = {}});
  }
  bool same = true;
  for (size_t i = 0; i < tables.size(); ++i) {
    PG_TRY(report.tables[i].target, SumTable(to, tables[i]));
    same = same && report.tables[i].target == report.tables[i].source;
  }
  from.Rollback();
  if (!same) {
    to.Rollback();
    return report;
  }
  PG_TRY_STATUS(to.Commit());
  report.committed = true;
  return report;
}

}  // namespace provgate::store::transfer
