#include "store/seen_overlay.hpp"

namespace provgate::store {

std::vector<DeviceSeen> CoalesceSeen(const std::vector<DeviceSeen>& seen) {
  std::unordered_map<std::int64_t, size_t> last;                  // device id -> index of its last update
  std::unordered_map<std::int64_t, const std::string*> firmware;  // its last non-empty firmware
  for (size_t i = 0; i < seen.size(); ++i) {
    last[seen[i].device_id] = i;
    if (!seen[i].firmware.empty()) firmware[seen[i].device_id] = &seen[i].firmware;
  }
  std::vector<DeviceSeen> out;
  out.reserve(last.size());
  for (size_t i = 0; i < seen.size(); ++i) {
    if (last[seen[i].device_id] != i) continue;
    out.push_back(seen[i]);
    if (auto it = firmware.find(seen[i].device_id); it != firmware.end()) out.back().firmware = *it->second;
  }
  return out;
}

void SeenOverlay::Committed(const std::vector<DeviceSeen>& seen) {
  std::lock_guard lock(mu_);
  for (const auto& d : seen) pending_[d.device_id] = Pending{d, std::nullopt, nullptr, nullptr};
}

void SeenOverlay::Copied(const std::vector<DeviceSeen>& seen) {
  const auto now = clock_.Now();
  std::lock_guard lock(mu_);
  for (const auto& d : seen) {
    if (auto it = pending_.find(d.device_id); it != pending_.end() && it->second.seen == d) {
      it->second.copied = now;
    }
  }
  std::erase_if(pending_, [&](const auto& kv) { return kv.second.copied && now - *kv.second.copied > kCopiedKeep; });
}

std::shared_ptr<const core::Device> SeenOverlay::Apply(std::shared_ptr<const core::Device> device) {
  std::lock_guard lock(mu_);
  const auto it = pending_.find(device->id);
  if (it == pending_.end() || !SeenChanges(*device, it->second.seen)) return device;
  Pending& pending = it->second;
  if (pending.base != device) {
    auto overlaid = std::make_shared<core::Device>(*device);
    ApplySeen(*overlaid, pending.seen);
    pending.base = std::move(device);
    pending.overlaid = std::move(overlaid);
  }
  return pending.overlaid;
}

}  // namespace provgate::store
