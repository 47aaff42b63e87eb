// A shipping-manifest import (format: docs/lifecycle.md) taken as the file arrives, so that
// neither the admin API nor the CLI ever holds the whole file or all of its devices:
//
//   pass 1 (Feed, Finish)  every row is checked as soon as its line is complete (MAC syntax,
//                          known vendor, tenant in scope, duplicates in the file and in the
//                          store, line fields, the policy linter per tenant/vendor/model), and
//                          the bytes are spooled to an unnamed temporary file (tmpfile(3),
//                          gone when the import is);
//   pass 2 (Finish)        only when no row was bad: the spool is read back row by row into
//                          one store transaction (store::Inventory::ImportDeviceRows), passwords
//                          generated as each row is written; all rows or none;
//   pass 3 (Finish)        the spool is read once more for one lifecycle audit record per
//                          device, written in durable batches.
//
// Rows are staged in the spool rather than written into a transaction held open while the
// file arrives: the store has one writer, and the device plane must not wait for an upload.
// Memory: one record at a time (at most kMaxCsvFields fields of kMaxCsvFieldBytes), the first
// kMaxListedImportProblems problems, the tenants named, one linter verdict per tenant, vendor
// and model, and an index of the MACs seen so far for "repeats line N" (a 64-bit key and a line
// number per row, which kMaxImportRows bounds). Not thread-safe; the Admin that started it
// must outlive it.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "service/admin.hpp"
#include "service/csv.hpp"

namespace provgate::service {

inline constexpr size_t kMaxImportRows = 1'000'000;
// ImportResult::problems lists at most this many; problem_count counts them all.
inline constexpr size_t kMaxListedImportProblems = 100;

class InventoryImport {
 public:
  ~InventoryImport();
  InventoryImport(const InventoryImport&) = delete;
  InventoryImport& operator=(const InventoryImport&) = delete;

  // The next bytes of the file; the rows they complete are checked at once. A bad row is a
  // problem of the result, not an error. Errors (malformed CSV "line N: ...", a bad header,
  // more than kMaxImportRows rows, the spool or the store failing) are final: every later
  // call returns the same error.
  Status Feed(std::string_view bytes);

  // The file ended: checks its last row, then imports every row or, when any row was bad,
  // none and returns the problems. kInvalidArgument for an empty file. `progress(done,
  // total)` may be empty.
  Result<ImportResult> Finish(const std::function<void(size_t, size_t)>& progress);

  // The data rows read so far (the header line not counted), bad ones included.
  size_t rows() const { return rows_; }

  // Defined in inventory.cpp.
  struct Columns;
  struct ParsedRow;

 private:
  friend class Admin;
  struct SpoolCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  using Spool = std::unique_ptr<std::FILE, SpoolCloser>;

  InventoryImport(Admin& admin, Spool spool);
  // Checks the records the reader has complete.
  Status Drain();
  Status Check(const CsvRecord& record);
  void Problem(size_t line, std::string reason);
  // The device a row describes, without secrets, or the row's problem.
  Result<ParsedRow> Parse(const CsvRecord& record);
  Result<const core::Tenant*> TenantNamed(const std::string& name);
  Status WriteRows(const std::function<void(size_t, size_t)>& progress);
  Status AuditRows();

  Admin& admin_;
  Spool spool_;
  CsvReader reader_;
  std::unique_ptr<Columns> columns_;  // from the header line
  std::optional<Error> error_;
  ImportResult result_;
  size_t rows_ = 0;
  std::int64_t now_ = 0;
  std::unordered_map<std::uint64_t, size_t> seen_;            // MAC -> line of first occurrence
  std::map<std::string, core::Tenant, std::less<>> tenants_;  // the tenants found by name
  std::map<std::string, std::string> lint_verdicts_;          // (tenant, vendor, model) -> errors
  bool told_foreign_ = false;  // a tenant-scoped caller was told of an existing MAC outside its tenant
};

}  // namespace provgate::service
