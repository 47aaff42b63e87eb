// The reads of a request whose device is proven by a verified client certificate: the
// device by that MAC, its tenant, its lines. The fleet cache (CachedStore) answers them from
// memory; a backend answers them from its data. Never use this role for a MAC or token a
// request merely names (NamedReads): a cached device and an unknown name must cost the same
// read. Implementations are thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "base/result.hpp"
#include "core/mac_address.hpp"
#include "core/model.hpp"
#include "store/data_changes.hpp"

namespace provgate::store {

// Devices in id order with their lines (ordered by device, then index), for a cache that fills
// itself before the requests come.
struct FleetPage {
  std::vector<core::Device> devices;
  std::vector<core::Line> lines;
};

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
  // The changes after `generation` (a value DataGeneration returned), up to a generation at
  // least as new as the current one: which devices and tenants they wrote, where the backend
  // knows (a device's key covers its row and its lines), or none (anything may have changed).
  virtual DataChanges ChangesSince(std::uint64_t generation) = 0;
  // How long a cache may keep an entry that no change since it was read touched: none when
  // the backend learns of every write, whoever makes it (kCacheMaxAge otherwise).
  virtual std::optional<std::chrono::seconds> CacheMaxAge() = 0;
  // Up to `limit` devices with ids above `after_id`, in id order, with their lines.
  virtual Result<FleetPage> ReadFleetPage(std::int64_t after_id, size_t limit) = 0;
  // The devices of these ids that exist, in id order, with their lines.
  virtual Result<FleetPage> ReadFleetDevices(const std::vector<std::int64_t>& ids) = 0;
};

}  // namespace provgate::store
