#include "api/auth_throttle.hpp"

namespace provgate::api {

std::int64_t AuthThrottle::Blocked(const std::string& key, std::int64_t now) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.blocked_until <= now) return 0;
  return it->second.blocked_until - now;
}

void AuthThrottle::Count(const std::string& key, std::int64_t now) {
  std::lock_guard lock(mu_);
  if (entries_.size() >= kMaxEntries && !entries_.contains(key)) entries_.clear();
  Entry& e = entries_[key];
  if (now - e.window_start >= options_.window_seconds) {
    e.window_start = now;
    e.failures = 0;
  }
  if (++e.failures > options_.max_failures) e.blocked_until = now + options_.block_seconds;
}

std::int64_t AuthThrottle::SourceBlocked(std::string_view source, std::int64_t now) {
  return Blocked("src:" + std::string(source), now);
}

std::int64_t AuthThrottle::PrefixBlocked(std::string_view prefix, std::int64_t now) {
  return Blocked("key:" + std::string(prefix), now);
}

void AuthThrottle::RecordFailure(std::string_view source, std::string_view prefix, std::int64_t now) {
  Count("src:" + std::string(source), now);
  if (!prefix.empty()) Count("key:" + std::string(prefix), now);
}

}  // namespace provgate::api
