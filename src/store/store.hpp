// A store backend: every role the server and the operator plane use, on one set of data.
// SQLite is the embedded backend; a PostgreSQL backend implements the same roles, and both
// must pass the same contract tests (store/store_contract_test.hpp). A user of the store
// takes the narrowest role it needs:
//   ProvenReads   the reads of a certificate-proven device's request (also the fleet cache)
//   NamedReads    lookups of a MAC or token someone merely names (never the cache)
//   DeviceWrites  targeted writes of the request path and lifecycle commands
//   AuditSink     the audit trail's copy (AuditStore adds the named device lookup)
//   Inventory     the operator's tenants, devices and lines
//   defense::BanStore  bans, so they survive restarts and are shared by nodes
// Implementations are thread-safe: every method may be called concurrently from the
// listener's worker threads and from the CLI.
#pragma once

#include <cstdint>
#include <memory>
#include <utility>

#include "base/result.hpp"
#include "core/mac_address.hpp"
#include "core/model.hpp"
#include "defense/ban_store.hpp"
#include "store/audit_sink.hpp"
#include "store/device_writes.hpp"
#include "store/inventory.hpp"
#include "store/named_reads.hpp"
#include "store/proven_reads.hpp"
#include "store/schema/invariants.hpp"

namespace provgate::store {

class Store : public ProvenReads, public Inventory, public DeviceWrites, public AuditStore, public defense::BanStore {
 public:
  ~Store() override = default;
  // ProvenReads and Inventory both list lines; a backend answers both from its data.
  using Inventory::ListLines;

  // The invariants of `provgate db check` (schema::Invariants()) that the data breaks,
  // each with a sample of the offending rows; empty when all hold. Reads only.
  virtual Result<std::vector<schema::InvariantViolation>> CheckInvariants() = 0;

  // The proven reads a backend answers like the named ones, with one copy into the shared
  // entry.
  Result<std::shared_ptr<const core::Device>> FindProvenDevice(const core::MacAddress& mac) override {
    PG_TRY(auto device, FindDevice(mac));
    return std::make_shared<const core::Device>(std::move(device));
  }
  Result<std::shared_ptr<const core::Tenant>> GetTenantShared(std::int64_t id) override {
    PG_TRY(auto tenant, GetTenant(id));
    return std::make_shared<const core::Tenant>(std::move(tenant));
  }
};

}  // namespace provgate::store
