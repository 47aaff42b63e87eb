#include "store/cached_store.hpp"

namespace provgate::store {

FleetCache::Stats FleetCache::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

namespace {

// The entry at `generation`, or null; counted as a hit or a miss.
template <typename Map, typename Key>
auto Lookup(Map& map, const Key& key, std::uint64_t generation, FleetCache::Stats& stats) {
  const auto* value = map.Find(key, generation);
  ++(value != nullptr ? stats.hits : stats.misses);
  return value;
}

}  // namespace

// Devices and tenants are shared pointers: a hit hands out the entry, not a copy of the data.
std::shared_ptr<const core::Device> FleetCache::FindDevice(const std::string& mac, std::uint64_t generation) {
  std::lock_guard lock(mu_);
  const auto* hit = Lookup(devices_, mac, generation, stats_);
  return hit != nullptr ? *hit : nullptr;
}

std::optional<std::vector<core::Line>> FleetCache::FindLines(std::int64_t device_id, std::uint64_t generation) {
  std::lock_guard lock(mu_);
  const auto* hit = Lookup(lines_, device_id, generation, stats_);
  if (hit == nullptr) return std::nullopt;
  return *hit;
}

std::shared_ptr<const core::Tenant> FleetCache::FindTenant(std::int64_t id, std::uint64_t generation) {
  std::lock_guard lock(mu_);
  const auto* hit = Lookup(tenants_, id, generation, stats_);
  return hit != nullptr ? *hit : nullptr;
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

void FleetCache::PutDevice(const std::shared_ptr<const core::Device>& device, std::uint64_t generation,
                           std::uint64_t seen_epoch) {
  std::lock_guard lock(mu_);
  if (max_devices_ == 0 || seen_epoch != seen_epoch_) return;
  // Ids of removed devices stay behind until the maps start over; this bounds them too.
  if (macs_.size() >= 2 * max_devices_) StartOver();
  const std::int64_t id = device->id;
  std::string mac = device->mac.str();
  Keep(devices_, mac, device, generation);
  macs_[id] = std::move(mac);
}

void FleetCache::PutLines(std::int64_t device_id, const std::vector<core::Line>& lines, std::uint64_t generation) {
  std::lock_guard lock(mu_);
  Keep(lines_, device_id, lines, generation);
}

void FleetCache::PutTenant(const std::shared_ptr<const core::Tenant>& tenant, std::uint64_t generation) {
  std::lock_guard lock(mu_);
  const std::int64_t id = tenant->id;
  Keep(tenants_, id, tenant, generation);
}

// As AuditSink::AppendAuditBatch: a later entry wins.
void FleetCache::ApplySeen(const std::vector<DeviceSeen>& seen) {
  std::lock_guard lock(mu_);
  ++seen_epoch_;
  for (const auto& s : seen) {
    const auto mac = macs_.find(s.device_id);
    if (mac == macs_.end()) continue;
    auto* cached = devices_.FindAny(mac->second);
    if (cached == nullptr || (*cached)->id != s.device_id || !store::SeenChanges(**cached, s)) continue;
    // Replaced, not changed: requests may be reading the cached one.
    auto updated = std::make_shared<core::Device>(**cached);
    store::ApplySeen(*updated, s);
    *cached = std::move(updated);
  }
}

// Each read takes the generation, and the seen epoch, before it asks the backend: a write
// committed after that changes the generation, so what the read returned is not used once
// the write has completed.
Result<std::shared_ptr<const core::Device>> CachedStore::FindProvenDevice(const core::MacAddress& mac) {
  const std::uint64_t generation = inner_.DataGeneration();
  if (auto hit = cache_.FindDevice(mac.str(), generation)) return hit;
  const std::uint64_t epoch = cache_.SeenEpoch();
  PG_TRY(auto device, inner_.FindProvenDevice(mac));
  cache_.PutDevice(device, generation, epoch);
  return device;
}

Result<std::shared_ptr<const core::Tenant>> CachedStore::GetTenantShared(std::int64_t id) {
  const std::uint64_t generation = inner_.DataGeneration();
  if (auto hit = cache_.FindTenant(id, generation)) return hit;
  PG_TRY(auto tenant, inner_.GetTenantShared(id));
  cache_.PutTenant(tenant, generation);
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

}  // namespace provgate::store
