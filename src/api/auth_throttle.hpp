// Throttling of failed API authentication, per source address and per key prefix, in fixed
// windows. A source over its limit is refused before its key is even checked (it learns
// nothing more). A prefix over its limit only changes the answer to further failures (429
// instead of 401): the prefix is public, and refusing its correct key would hand anyone
// who read it a way to lock its owner out; the 160-bit secret is what stops guessing.
// A source is an IPv4 address or an IPv6 /64. Thread-safe; memory bounded by kMaxEntries:
// when full, entries whose window and block have passed are dropped, and no live one.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace provgate::api {

struct AuthThrottleOptions {
  int max_failures = 10;  // per window, before throttling
  std::int64_t window_seconds = 60;
  std::int64_t block_seconds = 300;  // how long an over-limit source or prefix stays throttled
};

class AuthThrottle {
 public:
  static constexpr size_t kMaxEntries = 100'000;
  explicit AuthThrottle(AuthThrottleOptions options) : options_(options) {}

  // Seconds until the source may try again; 0 = it may.
  std::int64_t SourceBlocked(std::string_view source, std::int64_t now);
  std::int64_t PrefixBlocked(std::string_view prefix, std::int64_t now);
  // Counts a failure of `source` (and of `prefix`, when the key was well formed).
  void RecordFailure(std::string_view source, std::string_view prefix, std::int64_t now);
  // Entries held (sources and prefixes).
  size_t size();

 private:
  struct Entry {
    std::int64_t window_start = 0;
    int failures = 0;
    std::int64_t blocked_until = 0;
  };
  std::int64_t Blocked(const std::string& key, std::int64_t now);
  bool Expired(const Entry& e, std::int64_t now) const;
  void Count(const std::string& key, std::int64_t now);

  AuthThrottleOptions options_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace provgate::api
