#include "tls/verified_cache.hpp"

#include <algorithm>
#include <cstring>

namespace provgate::tls {

VerifiedCertCache::VerifiedCertCache(std::size_t capacity)
    : generation_capacity_(std::max<std::size_t>(1, capacity / 2)) {}

std::size_t VerifiedCertCache::KeyHash::operator()(const Key& k) const noexcept {
  // The key is already a cryptographic hash: any 8 bytes of it are uniform.
  std::size_t h = 0;
  std::memcpy(&h, k.data(), sizeof h);
  return h;
}

bool VerifiedCertCache::Contains(const Key& key, std::int64_t now) {
  std::lock_guard lock(mu_);
  auto it = current_.find(key);
  if (it == current_.end()) {
    auto old = previous_.find(key);
    if (old != previous_.end()) {
      // Still in use: keep it through the next generation change.
      it = current_.insert(*old).first;
      previous_.erase(old);
    }
  }
  const bool hit = it != current_.end() && now >= it->second.not_before && now <= it->second.not_after;
  (hit ? hits_ : misses_).fetch_add(1, std::memory_order_relaxed);
  return hit;
}

void VerifiedCertCache::Insert(const Key& key, std::int64_t not_before, std::int64_t not_after) {
  std::lock_guard lock(mu_);
  if (current_.size() >= generation_capacity_) {
    previous_ = std::move(current_);
    current_ = Map();
  }
  current_[key] = Validity{not_before, not_after};
}

std::size_t VerifiedCertCache::size() const {
  std::lock_guard lock(mu_);
  return current_.size() + previous_.size();
}

}  // namespace provgate::tls
