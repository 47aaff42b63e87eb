// Read-only queries of the operator plane, shared by the REST API and the CLI: device lists
// with filters and audit records, both paginated by cursor. Input arrives as text and is
// checked here; a tenant-scoped caller sees only its tenant (the tenant goes into the
// store's SQL predicate) and a tenant outside its scope answers as an unknown one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.hpp"
#include "service/admin.hpp"
#include "store/inventory.hpp"
#include "store/operator_store.hpp"

namespace provgate::service {

inline constexpr int kDefaultPageSize = 100;
inline constexpr int kMaxPageSize = 1000;
// An audit page may be far larger than a device page: it is read from the store in batches of
// kAuditBatchSize records (AuditPageReader), so no caller need hold it whole.
inline constexpr int kMaxAuditPageSize = 100'000;
inline constexpr int kAuditBatchSize = 500;

struct DeviceListRequest {
  std::string tenant;  // "" = every tenant in scope
  std::string state;   // stock | assigned | provisioned | expired | retired, "" = any
  std::string vendor;
  std::string model;
  std::optional<bool> locked;
  std::optional<std::int64_t> seen_since;  // unix seconds
  std::optional<std::int64_t> seen_before;
  std::string cursor;  // a MAC, from the previous page's next_cursor
  int limit = kDefaultPageSize;
};

struct DevicePage {
  std::vector<store::DeviceSummary> devices;  // effective states
  std::vector<std::string> tenant_names;      // per device, "" in stock
  std::string next_cursor;                    // "" on the last page
};

struct AuditListRequest {
  std::string device;  // a MAC
  std::string tenant;
  std::string actor;
  std::string decision;  // allow | deny | info
  std::optional<std::int64_t> since;
  std::optional<std::int64_t> until;
  std::optional<std::int64_t> cursor;  // from the previous page's next_cursor
  int limit = kDefaultPageSize;
};

// One audit page (up to AuditListRequest::limit records) read from the store a batch at a
// time, each batch a query of its own continuing below the last id of the one before: records
// appended meanwhile have higher ids, so the page is the one a single query would have given.
// Not thread-safe; the OperatorStore must outlive it.
class AuditPageReader {
 public:
  AuditPageReader(store::OperatorStore& store, store::AuditQuery query, int limit)
      : store_(&store), query_(std::move(query)), remaining_(limit) {}
  // The next records of the page, newest first, at most kAuditBatchSize; empty once the page
  // is complete.
  Result<std::vector<store::StoredAuditEvent>> Next();
  // After Next returned an empty batch: the cursor of the next page, nothing on the last one.
  std::optional<std::int64_t> next_cursor() const { return next_cursor_; }

 private:
  store::OperatorStore* store_;
  store::AuditQuery query_;
  int remaining_;
  bool done_ = false;
  std::optional<std::int64_t> next_cursor_;
};

class Queries {
 public:
  // The references must outlive this object.
  Queries(store::Inventory& store, store::OperatorStore& operator_store, const Clock& clock,
          std::optional<TenantScope> scope);

  // kInvalidArgument names the bad field (state, cursor, limit, ...); kNotFound for a
  // tenant unknown or outside the scope.
  Result<DevicePage> Devices(const DeviceListRequest& request);
  // The page read in batches (a limit up to kMaxAuditPageSize).
  Result<AuditPageReader> AuditPages(const AuditListRequest& request);

 private:
  Result<std::optional<core::Tenant>> TenantFilter(const std::string& name);

  store::Inventory& store_;
  store::OperatorStore& operator_store_;
  const Clock& clock_;
  std::optional<TenantScope> scope_;
};

}  // namespace provgate::service
