#include "pipeline/withheld.hpp"

namespace provgate::pipeline {

void WithheldDevices::Withhold(const core::MacAddress& mac, std::string why, std::uint64_t generation) {
  std::lock_guard lock(mu_);
  entries_[mac.str()] = Entry{std::move(why), generation};
  count_.store(entries_.size(), std::memory_order_release);
}

std::optional<std::string> WithheldDevices::Reason(const core::MacAddress& mac, std::uint64_t generation) {
  if (count_.load(std::memory_order_acquire) == 0) return std::nullopt;
  {
    std::lock_guard lock(mu_);
    const auto it = entries_.find(mac.str());
    if (it == entries_.end()) return std::nullopt;
    if (it->second.generation == generation) return it->second.why;
  }
  // The data changed since the device was checked: lint it again.
  std::string why = relint_ ? relint_(mac) : std::string();
  std::lock_guard lock(mu_);
  if (why.empty()) {
    entries_.erase(mac.str());
    count_.store(entries_.size(), std::memory_order_release);
    return std::nullopt;
  }
  entries_[mac.str()] = Entry{why, generation};
  return why;
}

size_t WithheldDevices::size() const { return count_.load(std::memory_order_acquire); }

}  // namespace provgate::pipeline
