// The server's fleet cache: the three reads of a proven device's request (ProvenReads: the
// device by MAC, its tenant, its lines) answered from memory while the data is unchanged.
// Before each use the cache asks its source what changed since it last looked
// (ProvenReads::ChangesSince, a comparison of DataGeneration when nothing did) and drops the
// entries those changes touched; a backend that cannot say which rows changed makes it drop
// everything. Every committed write to tenants, devices or lines through provgate, by this
// server or by a CLI process (and, on PostgreSQL, by anyone), counts as a change. A request
// therefore never sees data older than the last such write that completed before it
// started, as it would reading the store. Entries also expire after the source's
// CacheMaxAge, where it has one.
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
#include <unordered_set>
#include <vector>

#include "store/audit_sink.hpp"
#include "store/data_changes.hpp"
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
  // `max_age` (none: never) after they were read, by `clock`, which must outlive the cache.
  // Every call that takes a `source` must name the same one: the changes it reports are
  // counted from its data generation.
  explicit FleetCache(size_t max_devices, std::optional<std::chrono::seconds> max_age = kCacheMaxAge,
                      const SteadyClock& clock = SteadyClock::System())
      : max_devices_(max_devices),
        refills_(!max_age),
        devices_(max_devices, AgeLimit(max_age), clock),
        lines_(max_devices, AgeLimit(max_age), clock),
        tenants_(max_devices, AgeLimit(max_age), clock) {}

  // The entry, current at `source`'s data generation, or none. Devices and tenants are
  // shared, never changed once cached (a last-seen update replaces the device): a request
  // reads them without a copy.
  std::shared_ptr<const core::Device> FindDevice(ProvenReads& source, const std::string& mac);
  std::optional<std::vector<core::Line>> FindLines(ProvenReads& source, std::int64_t device_id);
  std::shared_ptr<const core::Tenant> FindTenant(ProvenReads& source, std::int64_t id);

  // Fills with what was read after `generation` (and for devices the seen epoch) was taken;
  // not kept when a change since then may have touched it.
  std::uint64_t SeenEpoch();
  // kSeenSince: not kept because a last-seen write came after `seen_epoch` was taken.
  enum class Outcome : std::uint8_t { kKept, kRefused, kSeenSince };
  Outcome PutDevice(ProvenReads& source, const std::shared_ptr<const core::Device>& device, std::uint64_t generation,
                    std::uint64_t seen_epoch);
  void PutLines(ProvenReads& source, std::int64_t device_id, const std::vector<core::Line>& lines,
                std::uint64_t generation);
  void PutTenant(ProvenReads& source, const std::shared_ptr<const core::Tenant>& tenant, std::uint64_t generation);
  // Last-seen values just committed (AuditSink::AppendAuditBatch), into the cached devices.
  void ApplySeen(const std::vector<DeviceSeen>& seen);

  // Reads the fleet from `source`, `page` devices per read, into the cache: devices, their
  // tenants and their password-free lines, up to the cache's size. Returns the devices
  // kept. Worth it only where entries do not expire (a source without CacheMaxAge), so that
  // a storm of devices this node has not served yet costs no reads.
  Result<size_t> Preload(ProvenReads& source, size_t page = 1000);
  // Where entries do not expire: reads again what changes have dropped, one read of up to
  // `limit` devices (with their lines) per call, plus their tenants and the dropped tenants
  // not held, one read each (at most `limit`): the devices a change named (devices added
  // since start among them), or, after a change of anything emptied the cache, the whole
  // fleet a page per call. So the cache stays filled without a read per request. Returns the
  // devices kept. Meant for a background thread, every second or so; a failed read is tried
  // again at the next call.
  Result<size_t> Refill(ProvenReads& source, size_t limit = 1000);

  struct Stats {
    std::uint64_t hits = 0;
    std::uint64_t misses = 0;
  };
  Stats stats() const;

 private:
  static std::chrono::steady_clock::duration AgeLimit(std::optional<std::chrono::seconds> max_age) {
    return max_age ? std::chrono::steady_clock::duration(*max_age) : std::chrono::steady_clock::duration::max();
  }
  // With mu_ held: drops what changed since the cache last looked.
  void CatchUp(ProvenReads& source);
  // With mu_ held, after CatchUp: whether what was read after `generation` may still be kept.
  bool StillCurrent(ProvenReads& source, const ChangedKey& key, std::uint64_t generation);
  void Drop(const ChangedKey& key);
  // Puts a page read after `generation` and `seen_epoch` were taken; the devices' tenants
  // are added to `tenants`, and the ids of devices a last-seen write overtook to `overtaken`.
  // Returns the devices kept.
  size_t Fill(ProvenReads& source, FleetPage page, std::uint64_t generation, std::uint64_t seen_epoch,
              std::unordered_set<std::int64_t>& tenants, std::vector<std::int64_t>& overtaken);
  // Reads and puts these tenants; with `only_missing`, those not held.
  Status FillTenants(ProvenReads& source, const std::unordered_set<std::int64_t>& tenants, bool only_missing);
  template <typename Map, typename Key, typename T>
  void Keep(Map& map, const Key& key, const T& value, std::uint64_t generation);
  void StartOver();

  const size_t max_devices_;
  const bool refills_;  // entries do not expire: what a change drops is read again (Refill)
  mutable std::mutex mu_;
  std::uint64_t applied_ = 0;  // the source's generation whose changes have been dropped
  // Dropped by a change, to be read again (at most max_devices_ each); guarded by mu_.
  std::unordered_set<std::int64_t> refill_devices_;
  std::unordered_set<std::int64_t> refill_tenants_;
  // Set when a change of anything emptied the cache: Refill reads the fleet again from the
  // device after this id. Guarded by mu_.
  std::optional<std::int64_t> reload_after_;
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
  DataChanges ChangesSince(std::uint64_t generation) override { return inner_.ChangesSince(generation); }
  std::optional<std::chrono::seconds> CacheMaxAge() override { return inner_.CacheMaxAge(); }
  Result<FleetPage> ReadFleetPage(std::int64_t after_id, size_t limit) override {
    return inner_.ReadFleetPage(after_id, limit);
  }
  Result<FleetPage> ReadFleetDevices(const std::vector<std::int64_t>& ids) override {
    return inner_.ReadFleetDevices(ids);
  }

 private:
  ProvenReads& inner_;
  FleetCache& cache_;
};

}  // namespace provgate::store
