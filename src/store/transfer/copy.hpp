// `provgate db copy`: every row of every table of one store into another, empty one at the
// same schema version, on SQLite or PostgreSQL (docs/database.md). The rows are written in
// one transaction on the target and checked before it commits: each table's row count and
// checksum must be the same on both sides, or nothing is committed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "store/transfer/table_access.hpp"

namespace provgate::store::transfer {

// A table's rows, summed the same way on either engine: SHA-256 over every row in
// primary-key order (text keys in byte order), each column in the table's order written as
// 'N' for NULL, else 'I' (integer, decimal), 'T' (text) or 'B' (blob, raw bytes), the
// value's length in decimal, ':' and the value.
struct TableSum {
  std::int64_t rows = 0;
  std::string sha256;  // hex
  bool operator==(const TableSum&) const = default;
};

struct TableCopy {
  std::string table;
  TableSum source;
  TableSum target;
};

struct CopyReport {
  std::vector<TableCopy> tables;
  bool committed = false;  // false: some table differs and the target was left as it was
};

// Reads every row of `table` page by page (inside the caller's transaction, if any).
Result<TableSum> SumTable(TableAccess& db, const Table& table);

enum class MigrateTarget : std::uint8_t { kNo, kYes };

// Copies `from` into `to`. Refuses (kFailedPrecondition, nothing written) when the schema
// versions differ or are not this provgate's (kYes first migrates the target), when the
// tables or their columns differ, or when a table of the target has rows. Reads `from` in
// one snapshot. A copy whose sums differ is rolled back and returned with committed false.
Result<CopyReport> CopyStore(TableAccess& from, TableAccess& to, MigrateTarget migrate, std::int64_t now);

}  // namespace provgate::store::transfer
