// The server's fleet cache: the three reads of a proven device's request (ProvenReads: the
// device by MAC, its tenant, its lines) answered from memory while the data is unchanged.
// An entry is used only while ProvenReads::DataGeneration still has the value read before
// the entry was filled (and for at most kCacheMaxAge), and every committed write to tenants, devices or lines
// through provgate, by this server or by a CLI process, changes it. A request therefore
// never sees data older than the last such write that completed before it started, as it
// would reading the store. Any write bumps the generation, so each one empties the cache
// for the whole fleet: cheap for a fleet that is only fetching, and still exact in a
// rollout, where every first fetch writes.
//
// What it never holds: SIP passwords (lines with a stored password are read from the store
// each time, which is also where delivery and wiping act), unknown MACs (a scan cannot fill
// it), and devices found by URL token. It does hold what each request of a device needs
// anyway: the device's config-encryption key and its digest and admin passwords.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "store/audit_sink.hpp"
#include "store/generation_map.hpp"
#include "store/proven_reads.hpp"

namespace provgate::store {

// The entries, shared by the server's CachedStore and its audit copier's CachedAuditStore,
// so the copier's last-seen writes update what the serving threads read: those writes do not change DataGeneration, or
// every minute of a device's life would empty the cache.
class FleetCache {
 public:
  // At most `max_devices` devices (and as many tenants and line sets) are kept; when a new
  // one would exceed that, the cache starts empty again. 0 keeps nothing. Entries expire
  // `max_age` after they were read, by `clock`, which must outlive the cache.
  explicit FleetCache(size_t max_devices, std::chrono::steady_clock::duration max_age = kCacheMaxAge,
                      const SteadyClock& clock = SteadyClock::System())
      : max_devices_(max_devices),
        devices_(max_devices, max_age, clock),
        lines_(max_devices, max_age, clock),
        tenants_(max_devices, max_age, clock) {}

  // An entry is returned only if it was filled at `generation`, less than max_age ago.
  // Devices and tenants are shared, never changed once cached (a last-seen update replaces
  // the device): a request reads them without a copy.
  std::shared_ptr<const core::Device> FindDevice(const std::string& mac, std::uint64_t generation);
  std::optional<std::vector<core::Line>> FindLines(std::int64_t device_id, std::uint64_t generation);
  std::shared_ptr<const core::Tenant> FindTenant(std::int64_t id, std::uint64_t generation);

  // Fills, with the generation (and for devices the seen epoch) taken before the read.
  std::uint64_t SeenEpoch();
  void PutDevice(const std::shared_ptr<const core::Device>& device, std::uint64_t generation, std::uint64_t seen_epoch);
  void PutLines(std::int64_t device_id, const std::vector<core::Line>& lines, std::uint64_t generation);
  void PutTenant(const std::shared_ptr<const core::Tenant>& tenant, std::uint64_t generation);
  // Last-seen values just committed (AuditSink::AppendAuditBatch), into the cached devices.
  void ApplySeen(const std::vector<DeviceSeen>& seen);

  struct Stats {
    std::uint64_t hits = 0;
    std::uint64_t misses = 0;
  };
  Stats stats() const;

 private:
  template <typename Map, typename Key, typename T>
  void Keep(Map& map, const Key& key, const T& value, std::uint64_t generation);
  void StartOver();

  const size_t max_devices_;
  mutable std::mutex mu_;
  GenerationMap<std::string, std::shared_ptr<const core::Device>> devices_;  // by MAC
  std::unordered_map<std::int64_t, std::string> macs_;                       // device id -> MAC
  GenerationMap<std::int64_t, std::vector<core::Line>> lines_;               // by device id
  GenerationMap<std::int64_t, std::shared_ptr<const core::Tenant>> tenants_;
  // Counts ApplySeen calls: a device read from the store before a last-seen write and put
  // after it would bring the old last-seen back, so such a read is not kept.
  std::uint64_t seen_epoch_ = 0;
  Stats stats_;
};

// The proven-read role over a backend, through the shared FleetCache. Implements nothing
// else: named lookups and writes go to the backend itself (NamedReads, DeviceWrites,
// Inventory), so a named lookup can never be answered by the cache.
class CachedStore final : public ProvenReads {
 public:
  CachedStore(ProvenReads& inner, FleetCache& cache) : inner_(inner), cache_(cache) {}

  Result<std::shared_ptr<const core::Device>> FindProvenDevice(const core::MacAddress& mac) override;
  Result<std::shared_ptr<const core::Tenant>> GetTenantShared(std::int64_t id) override;
  Result<std::vector<core::Line>> ListLines(std::int64_t device_id) override;
  std::uint64_t DataGeneration() override { return inner_.DataGeneration(); }

 private:
  ProvenReads& inner_;
  FleetCache& cache_;
};

}  // namespace provgate::store
