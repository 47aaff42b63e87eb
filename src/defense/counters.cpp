#include "defense/counters.hpp"

namespace provgate::defense {

Counter& Counters::Get(std::string_view name) {
  name = name.substr(0, kMaxNameLength);
  std::lock_guard lock(mu_);
  if (auto it = counters_.find(name); it != counters_.end()) return *it->second;
  if (counters_.size() >= kMaxCounters) name = "counters.overflow";
  auto& slot = counters_[std::string(name)];
  if (!slot) slot = std::make_unique<Counter>();
  return *slot;
}

std::map<std::string, std::uint64_t> Counters::Snapshot() const {
  std::lock_guard lock(mu_);
  std::map<std::string, std::uint64_t> out;
  for (const auto& [name, counter] : counters_) out.emplace(name, counter->value());
  return out;
}

}  // namespace provgate::defense
