// Last-seen updates the store does not have yet: the server's audit log commits a device's
// last-seen with its request's record at once, but copies it into the store (and so into the
// fleet cache) some time later. Whoever reads a device for a request overlays what is
// pending here, so its checks (the network-change check compares with the address of the
// device's previous fetch) see the newest values however recent.
//
// Thread-safe. The audit log's committer adds updates before their requests are answered;
// its store copier marks them copied; serving threads read through Apply.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "base/clock.hpp"
#include "core/model.hpp"
#include "store/audit_sink.hpp"

namespace provgate::store {

// The updates of `seen` with the same effect, one per device: its last, carrying the last
// firmware any of its updates named (ApplySeen keeps the recorded firmware for ""). In the
// order of each device's last update. A store writes a batch's last-seen updates with it,
// so a device that fetched a hundred times in a batch costs one row update, not a hundred.
std::vector<DeviceSeen> CoalesceSeen(const std::vector<DeviceSeen>& seen);

class SeenOverlay {
 public:
  // An update stays this long after its copy, for requests that read the store just before.
  static constexpr std::chrono::seconds kCopiedKeep{10};

  // `clock` times kCopiedKeep and must outlive the overlay.
  explicit SeenOverlay(const SteadyClock& clock = SteadyClock::System()) : clock_(clock) {}

  // Updates committed but not yet copied; a device's later update replaces its earlier one.
  void Committed(const std::vector<DeviceSeen>& seen);
  // Updates now in the store. One a later update of its device replaced stays pending; the
  // ones copied more than kCopiedKeep ago are dropped.
  void Copied(const std::vector<DeviceSeen>& seen);
  // The device itself when nothing pending changes it (no copy), else a copy with the newest
  // last-seen. Until the update reaches the caller's source, the device's requests share one
  // copy rather than make one each.
  std::shared_ptr<const core::Device> Apply(std::shared_ptr<const core::Device> device);

 private:
  struct Pending {
    DeviceSeen seen;
    std::optional<SteadyTimePoint> copied;
    // The device it was last overlaid on, and the result.
    std::shared_ptr<const core::Device> base;
    std::shared_ptr<const core::Device> overlaid;
  };
  const SteadyClock& clock_;
  std::mutex mu_;
  std::unordered_map<std::int64_t, Pending> pending_;  // by device id
};

}  // namespace provgate::store
