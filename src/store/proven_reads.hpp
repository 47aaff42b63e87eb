// The reads of a request whose device is proven by a verified client certificate: the
// device by that MAC, its tenant, its lines. The fleet cache (CachedStore) answers them from
// memory; a backend answers them from its data. Never use this role for a MAC or token a
// request merely names (NamedReads): a cached device and an unknown name must cost the same
// read. Implementations are thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "base/result.hpp"
#include "core/mac_address.hpp"
#include "core/model.hpp"

namespace provgate::store {

class ProvenReads {
 public:
  virtual ~ProvenReads() = default;

  // The device of a proven MAC; kNotFound if none. Shared and never changed: a cache hands
  // out its own entry instead of a copy.
  virtual Result<std::shared_ptr<const core::Device>> FindProvenDevice(const core::MacAddress& mac) = 0;
  // The tenant by id, shared like FindProvenDevice; kNotFound if none.
  virtual Result<std::shared_ptr<const core::Tenant>> GetTenantShared(std::int64_t id) = 0;
  // The device's lines, ordered by index; empty when the device has none (or does not
  // exist). Passwords in clear, as the backend opened them.
  virtual Result<std::vector<core::Line>> ListLines(std::int64_t device_id) = 0;

  // A number that changes after every committed write to tenants, devices or lines made
  // through a store by any process using the same data (SQLite: every provgate process on
  // the host; a backend shared by several nodes notifies them), and after a migration.
  // It may also change after a write that failed or changed nothing; it does not change for
  // reads, audit records with their last-seen values (AuditSink::AppendAuditBatch), or
  // bans. Cheap, with no round trip to the data: a cache compares it with the value it read
  // before filling an entry.
  virtual std::uint64_t DataGeneration() = 0;
};

}  // namespace provgate::store
