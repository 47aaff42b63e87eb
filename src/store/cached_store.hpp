// The server's fleet cache: the three reads of a proven device's request (the device by MAC,
// its tenant, its lines) answered from memory while the data is unchanged. An entry is used
// only while Store::DataGeneration still has the value read before the entry was filled
// (and for at most kCacheMaxAge), and every committed write to tenants, devices or lines
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
#include <memory>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "store/generation_map.hpp"
#include "store/store.hpp"

namespace provgate::store {

// The entries, shared by the CachedStore of each connection of one server (its serving
// threads' and its audit copier's), so the copier's last-seen writes update what the serving
// threads read: those writes do not change DataGeneration, or every minute of a device's
// life would empty the cache.
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
  void PutDevice(std::shared_ptr<const core::Device> device, std::uint64_t generation, std::uint64_t seen_epoch);
  void PutLines(std::int64_t device_id, const std::vector<core::Line>& lines, std::uint64_t generation);
  void PutTenant(std::shared_ptr<const core::Tenant> tenant, std::uint64_t generation);
  // Last-seen values just committed (Store::AppendAuditBatch), into the cached devices.
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
  std::unordered_map<std::int64_t, std::string> macs_;  // device id -> MAC
  GenerationMap<std::int64_t, std::vector<core::Line>> lines_;  // by device id
  GenerationMap<std::int64_t, std::shared_ptr<const core::Tenant>> tenants_;
  // Counts ApplySeen calls: a device read from the store before a last-seen write and put
  // after it would bring the old last-seen back, so such a read is not kept.
  std::uint64_t seen_epoch_ = 0;
  Stats stats_;
};

class CachedStore final : public Store {
 public:
  CachedStore(Store& inner, FleetCache& cache) : inner_(inner), cache_(cache) {}

  // Cached.
  Result<core::Tenant> GetTenant(std::int64_t id) override;
  Result<core::Device> FindDevice(const core::MacAddress& mac) override;
  Result<std::shared_ptr<const core::Tenant>> GetTenantShared(std::int64_t id) override;
  Result<std::shared_ptr<const core::Device>> FindDeviceShared(const core::MacAddress& mac) override;
  Result<std::vector<core::Line>> ListLines(std::int64_t device_id) override;
  // Forwarded, then the batch's last-seen values are written into the cached devices.
  Status AppendAuditBatch(const std::vector<StoredAuditEvent>& events, const std::vector<DeviceSeen>& seen,
                          const std::optional<AuditCopyMark>& mark) override;

  // Forwarded: writes change DataGeneration in the backend, other reads are rare.
  Result<core::Tenant> AddTenant(const core::Tenant& t) override { return inner_.AddTenant(t); }
  Result<core::Tenant> FindTenant(const std::string& name) override { return inner_.FindTenant(name); }
  Result<std::vector<core::Tenant>> ListTenants() override { return inner_.ListTenants(); }
  Status UpdateTenant(const core::Tenant& t) override { return inner_.UpdateTenant(t); }
  Result<core::Device> AddDevice(const core::Device& d) override { return inner_.AddDevice(d); }
  Result<std::vector<core::Device>> ListDevices(const DeviceFilter& filter) override {
    return inner_.ListDevices(filter);
  }
  Result<std::vector<core::Device>> ListModelRepresentatives(std::int64_t tenant_id) override {
    return inner_.ListModelRepresentatives(tenant_id);
  }
  Status UpdateDevice(const core::Device& d) override { return inner_.UpdateDevice(d); }
  Status RemoveDevice(const core::MacAddress& mac) override { return inner_.RemoveDevice(mac); }
  Status SetLine(const core::Line& line) override { return inner_.SetLine(line); }
  Status RemoveLine(std::int64_t device_id, int index) override { return inner_.RemoveLine(device_id, index); }
  Result<std::vector<core::Line>> ClaimPasswords(std::int64_t device_id, const std::vector<int>& indexes,
                                                 std::int64_t now) override {
    return inner_.ClaimPasswords(device_id, indexes, now);
  }
  Result<std::vector<int>> WipeDeliveredPasswords(std::int64_t device_id, std::int64_t cutoff) override {
    return inner_.WipeDeliveredPasswords(device_id, cutoff);
  }
  Result<bool> TransitionState(std::int64_t device_id, core::DeviceState from, core::DeviceState to,
                               std::int64_t now) override {
    return inner_.TransitionState(device_id, from, to, now);
  }
  Status ReplaceDevice(const core::Device& d, const std::vector<core::Line>& lines) override {
    return inner_.ReplaceDevice(d, lines);
  }
  Status ImportDeviceRows(const DeviceRowSource& next, const std::function<void(size_t)>& progress) override {
    return inner_.ImportDeviceRows(next, progress);
  }
  Result<bool> PinDevice(std::int64_t device_id, const std::string& spki_sha256) override {
    return inner_.PinDevice(device_id, spki_sha256);
  }
  Status ClearPin(std::int64_t device_id) override { return inner_.ClearPin(device_id); }
  Result<bool> MarkConfigKeyDelivered(std::int64_t device_id, std::int64_t now) override {
    return inner_.MarkConfigKeyDelivered(device_id, now);
  }
  Status GiveBackUndelivered(std::int64_t device_id, const std::vector<int>& lines, std::int64_t spent_at,
                             bool config_key) override {
    return inner_.GiveBackUndelivered(device_id, lines, spent_at, config_key);
  }
  Status LockDevice(std::int64_t device_id, const std::string& reason) override {
    return inner_.LockDevice(device_id, reason);
  }
  Result<core::Device> FindDeviceByToken(const std::string& token_hash) override {
    return inner_.FindDeviceByToken(token_hash);
  }
  Status AppendAudit(const StoredAuditEvent& e) override { return inner_.AppendAudit(e); }
  Result<std::optional<AuditCopyMark>> FindAuditCopyMark(const std::string& file) override {
    return inner_.FindAuditCopyMark(file);
  }
  Result<std::vector<StoredAuditEvent>> ListAudit(const std::string& mac, int limit) override {
    return inner_.ListAudit(mac, limit);
  }
  Result<int> SchemaVersion() override { return inner_.SchemaVersion(); }
  std::uint64_t DataGeneration() override { return inner_.DataGeneration(); }
  Status SaveBan(const defense::Ban& ban) override { return inner_.SaveBan(ban); }
  Result<std::vector<defense::Ban>> LoadActiveBans(std::int64_t now) override {
    return inner_.LoadActiveBans(now);
  }
  Status RemoveBan(const std::string& source) override { return inner_.RemoveBan(source); }

 private:
  Store& inner_;
  FleetCache& cache_;
};

}  // namespace provgate::store
