#include "store/cached_store.hpp"

#include <type_traits>

namespace provgate::store {

FleetCache::Stats FleetCache::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

namespace {

template <typename Map, typename Key>
auto Lookup(Map& map, const Key& key, std::uint64_t generation, FleetCache::Stats& stats)
    -> std::optional<std::remove_cvref_t<decltype(*map.Find(key, generation))>> {
  const auto* value = map.Find(key, generation);
  ++(value != nullptr ? stats.hits : stats.misses);
  if (value == nullptr) return std::nullopt;
  return *value;
}

}  // namespace

std::optional<core::Device> FleetCache::FindDevice(const std::string& mac, std::uint64_t generation) {
  std::lock_guard lock(mu_);
  return Lookup(devices_, mac, generation, stats_);
}

std::optional<std::vector<core::Line>> FleetCache::FindLines(std::int64_t device_id, std::uint64_t generation) {
  std::lock_guard lock(mu_);
  return Lookup(lines_, device_id, generation, stats_);
}

std::optional<core::Tenant> FleetCache::FindTenant(std::int64_t id, std::uint64_t generation) {
  std::lock_guard lock(mu_);
  return Lookup(tenants_, id, generation, stats_);
}

std::uint64_t FleetCache::SeenEpoch() {
  std::lock_guard lock(mu_);
  return seen_epoch_;
}

void FleetCache::StartOver() {
  devices_.Clear();
  macs_.clear();
  lines_.Clear();
  tenants_.Clear();
}

// Called with mu_ held. When one map starts over, all do: the memory bound holds for the
// whole, and a device's lines never stay when the device went.
template <typename Map, typename Key, typename T>
void FleetCache::Keep(Map& map, const Key& key, const T& value, std::uint64_t generation) {
  using Put = typename Map::Put;
  if (map.Insert(key, value, generation) != Put::kStartedOver) return;
  StartOver();
  map.Insert(key, value, generation);
}

void FleetCache::PutDevice(const core::Device& device, std::uint64_t generation, std::uint64_t seen_epoch) {
  std::lock_guard lock(mu_);
  if (max_devices_ == 0 || seen_epoch != seen_epoch_) return;
  // Ids of removed devices stay behind until the maps start over; this bounds them too.
  if (macs_.size() >= 2 * max_devices_) StartOver();
  Keep(devices_, device.mac.str(), device, generation);
  macs_[device.id] = device.mac.str();
}

void FleetCache::PutLines(std::int64_t device_id, const std::vector<core::Line>& lines,
                          std::uint64_t generation) {
  std::lock_guard lock(mu_);
  Keep(lines_, device_id, lines, generation);
}

void FleetCache::PutTenant(const core::Tenant& tenant, std::uint64_t generation) {
  std::lock_guard lock(mu_);
  Keep(tenants_, tenant.id, tenant, generation);
}

// As Store::AppendAuditBatch: a later entry wins.
void FleetCache::ApplySeen(const std::vector<DeviceSeen>& seen) {
  std::lock_guard lock(mu_);
  ++seen_epoch_;
  for (const auto& s : seen) {
    const auto mac = macs_.find(s.device_id);
    if (mac == macs_.end()) continue;
    core::Device* cached = devices_.FindAny(mac->second);
    if (cached != nullptr && cached->id == s.device_id) store::ApplySeen(*cached, s);
  }
}

// Each read takes the generation, and the seen epoch, before it asks the backend: a write
// committed after that changes the generation, so what the read returned is not used once
// the write has completed.
Result<core::Device> CachedStore::FindDevice(const core::MacAddress& mac) {
  const std::uint64_t generation = inner_.DataGeneration();
  if (auto hit = cache_.FindDevice(mac.str(), generation)) return std::move(*hit);
  const std::uint64_t epoch = cache_.SeenEpoch();
  auto device = inner_.FindDevice(mac);
  if (device) cache_.PutDevice(*device, generation, epoch);
  return device;
}

Result<core::Tenant> CachedStore::GetTenant(std::int64_t id) {
  const std::uint64_t generation = inner_.DataGeneration();
  if (auto hit = cache_.FindTenant(id, generation)) return std::move(*hit);
  auto tenant = inner_.GetTenant(id);
  if (tenant) cache_.PutTenant(*tenant, generation);
  return tenant;
}

Result<std::vector<core::Line>> CachedStore::ListLines(std::int64_t device_id) {
  const std::uint64_t generation = inner_.DataGeneration();
  if (auto hit = cache_.FindLines(device_id, generation)) return std::move(*hit);
  auto lines = inner_.ListLines(device_id);
  if (lines && !core::AnyPassword(*lines)) {
    cache_.PutLines(device_id, *lines, generation);
  }
  return lines;
}

Status CachedStore::AppendAuditBatch(const std::vector<StoredAuditEvent>& events,
                                     const std::vector<DeviceSeen>& seen,
                                     const std::optional<AuditCopyMark>& mark) {
  PG_TRY_STATUS(inner_.AppendAuditBatch(events, seen, mark));
  if (!seen.empty()) cache_.ApplySeen(seen);
  return Ok();
}

}  // namespace provgate::store
