#include "api/auth_throttle.hpp"

#include "net/ip_address.hpp"

namespace provgate::api {
namespace {

// One IPv6 client usually holds a whole /64 (as the device plane's scan detector assumes), so
// an IPv6 source is throttled as its /64; an IPv4 source as its address. Text that is not an
// address (a test's name) is its own key.
std::string SourceKey(std::string_view source) {
  const auto address = net::IpAddress::Parse(source);
  if (address && !address->is_v4()) {
    if (const auto network = net::Cidr::Of(*address, 64)) return "src:" + network->ToString();
  }
  return "src:" + (address ? address->ToString() : std::string(source));
}

}  // namespace

std::int64_t AuthThrottle::Blocked(const std::string& key, std::int64_t now) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.blocked_until <= now) return 0;
  return it->second.blocked_until - now;
}

bool AuthThrottle::Expired(const Entry& e, std::int64_t now) const {
  return now - e.window_start >= options_.window_seconds && e.blocked_until <= now;
}

void AuthThrottle::Count(const std::string& key, std::int64_t now) {
  std::lock_guard lock(mu_);
  if (entries_.size() >= kMaxEntries && !entries_.contains(key)) {
    // Full: entries that no longer count go first. A live block is never dropped to make
    // room, so failures from many new sources cannot lift another source's or user's block;
    // while every entry is live, a new key is not tracked.
    std::erase_if(entries_, [&](const auto& kv) { return Expired(kv.second, now); });
    if (entries_.size() >= kMaxEntries) return;
  }
  Entry& e = entries_[key];
  if (now - e.window_start >= options_.window_seconds) {
    e.window_start = now;
    e.failures = 0;
  }
  if (++e.failures > options_.max_failures) e.blocked_until = now + options_.block_seconds;
}

std::int64_t AuthThrottle::SourceBlocked(std::string_view source, std::int64_t now) {
  return Blocked(SourceKey(source), now);
}

std::int64_t AuthThrottle::PrefixBlocked(std::string_view prefix, std::int64_t now) {
  return Blocked("key:" + std::string(prefix), now);
}

void AuthThrottle::RecordFailure(std::string_view source, std::string_view prefix, std::int64_t now) {
  Count(SourceKey(source), now);
  if (!prefix.empty()) Count("key:" + std::string(prefix), now);
}

size_t AuthThrottle::size() {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace provgate::api
