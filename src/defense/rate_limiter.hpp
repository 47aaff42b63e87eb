// Token-bucket rate limits keyed by who is asking: "device:<mac>" and "tenant:<id>" for
// authenticated traffic, "ip:<address or /64>" only for unauthenticated traffic, so hundreds
// of phones behind one NAT address are limited per device, not as one source.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/clock.hpp"
#include "net/ip_address.hpp"

namespace provgate::defense {

struct RateLimit {
  double per_second = 1.0;  // refill rate, > 0
  double burst = 10.0;      // bucket size, >= 1
};

struct RateLimiterOptions {
  // Limits per key class: the text before the first ':' of a key ("device", "tenant", "ip").
  std::map<std::string, RateLimit, std::less<>> classes;
  // For keys whose class is not listed.
  RateLimit fallback;
  // Total buckets kept; the least recently used bucket of a full shard is dropped. A
  // dropped bucket restarts full, so the cap trades precision for bounded memory under a
  // flood of distinct keys (counted in evicted_early()).
  size_t max_buckets = 100000;
  size_t shards = 16;
};

struct RateDecision {
  bool allowed = true;
  // When refused: whole seconds until `cost` tokens are back (at least 1), for Retry-After.
  std::int64_t retry_after_seconds = 0;
};

// Thread-safe: keys hash to shards, each with its own mutex.
class RateLimiter {
 public:
  // kInvalidArgument for a non-positive rate, a burst below 1, or zero shards or buckets.
  static Result<std::unique_ptr<RateLimiter>> Create(const Clock& clock, RateLimiterOptions options);

  // Takes `cost` tokens (0 < cost <= burst; a larger cost is never granted) from the bucket
  // of `key` if it holds them.
  RateDecision Acquire(std::string_view key, double cost = 1.0);

  size_t bucket_count() const;
  // Buckets dropped before they had refilled (state lost to the memory cap).
  std::uint64_t evicted_early() const { return evicted_early_.load(); }

 private:
  struct Bucket {
    std::string key;
    double tokens = 0;
    TimePoint updated;
    RateLimit limit;
  };
  struct Shard {
    mutable std::mutex mu;
    std::list<Bucket> lru;  // most recently used first
    std::unordered_map<std::string_view, std::list<Bucket>::iterator> index;
  };

  RateLimiter(const Clock& clock, RateLimiterOptions options);
  const RateLimit& LimitFor(std::string_view key) const;
  static void Refill(Bucket& b, TimePoint now);

  const Clock& clock_;
  RateLimiterOptions options_;
  size_t per_shard_cap_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::atomic<std::uint64_t> evicted_early_{0};
};

// The rate-limit key of a source in `key_class`: "ip:192.0.2.1" or, for IPv6, the /64
// ("ip:2001:db8:1:2::/64"), since one host usually controls a whole /64.
std::string SourceRateKey(const net::IpAddress& source, std::string_view key_class = "ip", int v6_prefix = 64);

struct ConcurrencyGateOptions {
  size_t max_in_flight = 1024;
  // Retry-After of a shed request, uniform in [min, max] seconds so that shed clients do
  // not all come back in the same second.
  std::int64_t retry_after_min_seconds = 5;
  std::int64_t retry_after_max_seconds = 30;
};

// A global cap on requests in flight; over the cap a request is shed (503 + Retry-After).
// Thread-safe, lock-free.
class ConcurrencyGate {
 public:
  // Move-only; releases its slot when destroyed.
  class Permit {
   public:
    Permit(Permit&& other) noexcept;
    Permit& operator=(Permit&& other) noexcept;
    Permit(const Permit&) = delete;
    Permit& operator=(const Permit&) = delete;
    ~Permit();

    bool admitted() const { return gate_ != nullptr; }
    // Set when shed.
    std::int64_t retry_after_seconds() const { return retry_after_seconds_; }

   private:
    friend class ConcurrencyGate;
    Permit(ConcurrencyGate* gate, std::int64_t retry_after) : gate_(gate), retry_after_seconds_(retry_after) {}
    ConcurrencyGate* gate_;
    std::int64_t retry_after_seconds_;
  };

  // kInvalidArgument for a zero cap or min > max or a negative min.
  static Result<std::unique_ptr<ConcurrencyGate>> Create(ConcurrencyGateOptions options);

  Permit TryEnter();
  size_t in_flight() const { return in_flight_.load(); }

 private:
  explicit ConcurrencyGate(ConcurrencyGateOptions options) : options_(options) {}
  void Release() { in_flight_.fetch_sub(1); }

  ConcurrencyGateOptions options_;
  std::atomic<size_t> in_flight_{0};
};

}  // namespace provgate::defense
