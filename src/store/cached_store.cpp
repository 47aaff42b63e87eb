#include "store/cached_store.hpp"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "core/model.hpp"

namespace provgate::store {

FleetCache::Stats FleetCache::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

namespace {

// The fresh entry, or null; counted as a hit or a miss.
template <typename Map, typename Key>
auto Lookup(const Map& map, const Key& key, FleetCache::Stats& stats) {
  const auto* value = map.FindFresh(key);
  ++(value != nullptr ? stats.hits : stats.misses);
  return value;
}

}  // namespace

void FleetCache::CatchUp(ProvenReads& source) {
  if (source.DataGeneration() == applied_) return;
  const DataChanges changes = source.ChangesSince(applied_);
  if (changes.keys) {
    for (const auto& key : *changes.keys) Drop(key);
  } else {
    StartOver();
    if (refills_) {  // everything is read again, a page per Refill
      reload_after_ = 0;
      refill_devices_.clear();
      refill_tenants_.clear();
    }
  }
  applied_ = changes.upto;
}

bool FleetCache::StillCurrent(ProvenReads& source, const ChangedKey& key, std::uint64_t generation) {
  return generation >= applied_ || !source.ChangesSince(generation).Touches(key);
}

void FleetCache::Drop(const ChangedKey& key) {
  if (key.kind == ChangedKey::Kind::kTenant) {
    tenants_.Erase(key.id);
    if (refills_ && refill_tenants_.size() < max_devices_) refill_tenants_.insert(key.id);
    return;
  }
  lines_.Erase(key.id);
  bool was_cached = false;
  if (const auto mac = macs_.find(key.id); mac != macs_.end()) {
    if (const auto* cached = devices_.FindAny(mac->second); cached != nullptr && (*cached)->id == key.id) {
      devices_.Erase(mac->second);
      was_cached = true;
    }
    macs_.erase(mac);
  }
  // Read again: a device that was held; a new one while there is room (a full cache would
  // start over for it). Requests may take the room first: then the refill starts it over.
  if (refills_ && (was_cached || devices_.size() < max_devices_) && refill_devices_.size() < max_devices_) {
    refill_devices_.insert(key.id);
  }
}

// Devices and tenants are shared pointers: a hit hands out the entry, not a copy of the data.
std::shared_ptr<const core::Device> FleetCache::FindDevice(ProvenReads& source, const std::string& mac) {
  std::lock_guard lock(mu_);
  CatchUp(source);
  const auto* hit = Lookup(devices_, mac, stats_);
  return hit != nullptr ? *hit : nullptr;
}

std::optional<std::vector<core::Line>> FleetCache::FindLines(ProvenReads& source, std::int64_t device_id) {
  std::lock_guard lock(mu_);
  CatchUp(source);
  const auto* hit = Lookup(lines_, device_id, stats_);
  if (hit == nullptr) return std::nullopt;
  return *hit;
}

std::shared_ptr<const core::Tenant> FleetCache::FindTenant(ProvenReads& source, std::int64_t id) {
  std::lock_guard lock(mu_);
  CatchUp(source);
  const auto* hit = Lookup(tenants_, id, stats_);
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

FleetCache::Outcome FleetCache::PutDevice(ProvenReads& source, const std::shared_ptr<const core::Device>& device,
                                          std::uint64_t generation, std::uint64_t seen_epoch) {
  std::lock_guard lock(mu_);
  if (max_devices_ == 0) return Outcome::kRefused;
  if (seen_epoch != seen_epoch_) return Outcome::kSeenSince;
  CatchUp(source);
  const std::int64_t id = device->id;
  if (!StillCurrent(source, ChangedKey::Device(id), generation)) return Outcome::kRefused;
  // Ids of removed devices stay behind until the maps start over; this bounds them too.
  if (macs_.size() >= 2 * max_devices_) StartOver();
  std::string mac = device->mac.str();
  // A device read under a new MAC leaves no entry under its old one.
  if (const auto old = macs_.find(id); old != macs_.end() && old->second != mac) {
    if (const auto* cached = devices_.FindAny(old->second); cached != nullptr && (*cached)->id == id) {
      devices_.Erase(old->second);
    }
  }
  Keep(devices_, mac, device, generation);
  macs_[id] = std::move(mac);
  return Outcome::kKept;
}

void FleetCache::PutLines(ProvenReads& source, std::int64_t device_id, const std::vector<core::Line>& lines,
                          std::uint64_t generation) {
  std::lock_guard lock(mu_);
  CatchUp(source);
  if (!StillCurrent(source, ChangedKey::Device(device_id), generation)) return;
  Keep(lines_, device_id, lines, generation);
}

void FleetCache::PutTenant(ProvenReads& source, const std::shared_ptr<const core::Tenant>& tenant,
                           std::uint64_t generation) {
  std::lock_guard lock(mu_);
  CatchUp(source);
  const std::int64_t id = tenant->id;
  if (!StillCurrent(source, ChangedKey::Tenant(id), generation)) return;
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

size_t FleetCache::Fill(ProvenReads& source, FleetPage page, std::uint64_t generation, std::uint64_t seen_epoch,
                        std::unordered_set<std::int64_t>& tenants, std::vector<std::int64_t>& overtaken) {
  std::unordered_map<std::int64_t, std::vector<core::Line>> lines;
  for (auto& line : page.lines) lines[line.device_id].push_back(std::move(line));
  size_t kept = 0;
  for (auto& device : page.devices) {
    const std::int64_t id = device.id;
    if (device.tenant_id) tenants.insert(*device.tenant_id);
    const Outcome put =
        PutDevice(source, std::make_shared<const core::Device>(std::move(device)), generation, seen_epoch);
    if (put == Outcome::kSeenSince) overtaken.push_back(id);
    if (const auto& own = lines[id]; !core::AnyPassword(own)) PutLines(source, id, own, generation);
    if (put == Outcome::kKept) ++kept;
  }
  return kept;
}

Status FleetCache::FillTenants(ProvenReads& source, const std::unordered_set<std::int64_t>& tenants,
                               bool only_missing) {
  for (const std::int64_t id : tenants) {
    if (only_missing) {
      std::lock_guard lock(mu_);
      if (tenants_.FindFresh(id) != nullptr) continue;
    }
    const std::uint64_t generation = source.DataGeneration();
    auto tenant = source.GetTenantShared(id);
    if (!tenant) {
      if (tenant.error().code == ErrorCode::kNotFound) continue;  // removed meanwhile
      return tenant.error();
    }
    PutTenant(source, *tenant, generation);
  }
  return Ok();
}

Result<size_t> FleetCache::Preload(ProvenReads& source, size_t page) {
  size_t kept = 0;
  std::int64_t after = 0;
  std::unordered_set<std::int64_t> tenants;
  std::vector<std::int64_t> overtaken;  // by a last-seen write: read again by Refill
  while (kept < max_devices_) {
    const std::uint64_t generation = source.DataGeneration();
    const std::uint64_t epoch = SeenEpoch();
    PG_TRY(FleetPage read, source.ReadFleetPage(after, std::min(page, max_devices_ - kept)));
    if (read.devices.empty()) break;
    after = read.devices.back().id;
    kept += Fill(source, std::move(read), generation, epoch, tenants, overtaken);
  }
  if (refills_) {
    std::lock_guard lock(mu_);
    refill_devices_.insert(overtaken.begin(), overtaken.end());
  }
  PG_TRY_STATUS(FillTenants(source, tenants, false));
  return kept;
}

Result<size_t> FleetCache::Refill(ProvenReads& source, size_t limit) {
  std::vector<std::int64_t> devices;
  std::unordered_set<std::int64_t> tenants;
  std::optional<std::int64_t> reload_after;
  size_t room = 0;
  std::uint64_t generation = 0;
  std::uint64_t epoch = 0;
  {
    std::lock_guard lock(mu_);
    if (!refills_) return size_t{0};
    CatchUp(source);  // what changed since the last request is dropped, and queued, now
    // A reload stops where the cache is full: another page would make it start over.
    if (reload_after_ && devices_.size() >= max_devices_) reload_after_.reset();
    reload_after = reload_after_;
    room = max_devices_ - std::min(max_devices_, devices_.size());
    while (!reload_after && !refill_devices_.empty() && devices.size() < limit) {
      devices.push_back(*refill_devices_.begin());
      refill_devices_.erase(refill_devices_.begin());
    }
    while (!refill_tenants_.empty() && tenants.size() < limit) {
      tenants.insert(*refill_tenants_.begin());
      refill_tenants_.erase(refill_tenants_.begin());
    }
    generation = applied_;
    epoch = seen_epoch_;
  }
  const auto put_back = [&] {
    std::lock_guard lock(mu_);
    refill_devices_.insert(devices.begin(), devices.end());
    refill_tenants_.insert(tenants.begin(), tenants.end());
  };
  Result<FleetPage> read = FleetPage{};
  if (reload_after) {
    read = source.ReadFleetPage(*reload_after, std::min(limit, room));
  } else if (!devices.empty()) {
    read = source.ReadFleetDevices(devices);
  }
  if (!read) {
    put_back();
    return read.error();
  }
  std::optional<std::int64_t> next;
  if (!read->devices.empty()) next = read->devices.back().id;
  std::unordered_set<std::int64_t> theirs;
  std::vector<std::int64_t> overtaken;
  const size_t kept = Fill(source, std::move(*read), generation, epoch, theirs, overtaken);
  {
    std::lock_guard lock(mu_);
    refill_devices_.insert(overtaken.begin(), overtaken.end());
    // Unless a change of anything started the reload over meanwhile.
    if (reload_after && reload_after_ == reload_after) reload_after_ = next;
  }
  // The tenants of the devices read and those a change dropped, unless a request has read
  // them again meanwhile.
  theirs.insert(tenants.begin(), tenants.end());
  if (auto filled = FillTenants(source, theirs, true); !filled) {
    devices.clear();  // read and kept above
    put_back();
    return filled.error();
  }
  return kept;
}

// Each read takes the generation, and the seen epoch, before it asks the backend: a write
// committed after that is among the changes since that generation, so what the read
// returned is not kept, or is dropped once the write has completed.
Result<std::shared_ptr<const core::Device>> CachedStore::FindProvenDevice(const core::MacAddress& mac) {
  const std::uint64_t generation = inner_.DataGeneration();
  if (auto hit = cache_.FindDevice(inner_, mac.str())) return hit;
  const std::uint64_t epoch = cache_.SeenEpoch();
  PG_TRY(auto device, inner_.FindProvenDevice(mac));
  cache_.PutDevice(inner_, device, generation, epoch);
  return device;
}

Result<std::shared_ptr<const core::Tenant>> CachedStore::GetTenantShared(std::int64_t id) {
  const std::uint64_t generation = inner_.DataGeneration();
  if (auto hit = cache_.FindTenant(inner_, id)) return hit;
  PG_TRY(auto tenant, inner_.GetTenantShared(id));
  cache_.PutTenant(inner_, tenant, generation);
  return tenant;
}

Result<std::vector<core::Line>> CachedStore::ListLines(std::int64_t device_id) {
  const std::uint64_t generation = inner_.DataGeneration();
  if (auto hit = cache_.FindLines(inner_, device_id)) return std::move(*hit);
  auto lines = inner_.ListLines(device_id);
  if (lines && !core::AnyPassword(*lines)) {
    cache_.PutLines(inner_, device_id, *lines, generation);
  }
  return lines;
}

}  // namespace provgate::store
