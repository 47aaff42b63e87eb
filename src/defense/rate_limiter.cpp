#include "defense/rate_limiter.hpp"

#include <sodium.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <utility>

#include "crypto/random.hpp"

namespace provgate::defense {

Result<std::unique_ptr<RateLimiter>> RateLimiter::Create(const Clock& clock, RateLimiterOptions options) {
  auto valid = [](const RateLimit& l) {
    return std::isfinite(l.per_second) && l.per_second > 0 && std::isfinite(l.burst) && l.burst >= 1;
  };
  if (!valid(options.fallback)) return Error::InvalidArgument("rate limit: bad fallback limit");
  for (const auto& [name, limit] : options.classes) {
    if (!valid(limit)) {
      return Error::InvalidArgument("rate limit '" + name + "': rate must be > 0 and burst >= 1");
    }
  }
  if (options.shards == 0 || options.max_buckets == 0) {
    return Error::InvalidArgument("rate limit: shards and max_buckets must be positive");
  }
  return std::unique_ptr<RateLimiter>(new RateLimiter(clock, std::move(options)));
}

RateLimiter::RateLimiter(const Clock& clock, RateLimiterOptions options)
    : clock_(clock),
      options_(std::move(options)),
      per_shard_cap_(std::max<size_t>(1, options_.max_buckets / options_.shards)) {
  shards_.reserve(options_.shards);
  for (size_t i = 0; i < options_.shards; ++i) shards_.push_back(std::make_unique<Shard>());
}

const RateLimit& RateLimiter::LimitFor(std::string_view key) const {
  const auto it = options_.classes.find(key.substr(0, key.find(':')));
  return it == options_.classes.end() ? options_.fallback : it->second;
}

void RateLimiter::Refill(Bucket& b, TimePoint now) {
  // A clock that stepped back refills nothing rather than draining the bucket.
  if (now <= b.updated) return;
  const double elapsed = std::chrono::duration<double>(now - b.updated).count();
  b.tokens = std::min(b.limit.burst, b.tokens + elapsed * b.limit.per_second);
  b.updated = now;
}

RateDecision RateLimiter::Acquire(std::string_view key, double cost) {
  const TimePoint now = clock_.Now();
  Shard& shard = *shards_[std::hash<std::string_view>{}(key) % shards_.size()];
  std::lock_guard lock(shard.mu);
  auto it = shard.index.find(key);
  if (it == shard.index.end()) {
    if (shard.lru.size() >= per_shard_cap_) {
      Bucket& victim = shard.lru.back();
      Refill(victim, now);
      if (victim.tokens < victim.limit.burst) evicted_early_.fetch_add(1);
      shard.index.erase(victim.key);
      shard.lru.pop_back();
    }
    const RateLimit& limit = LimitFor(key);
    shard.lru.push_front(Bucket{std::string(key), limit.burst, now, limit});
    it = shard.index.emplace(shard.lru.front().key, shard.lru.begin()).first;
  } else if (it->second != shard.lru.begin()) {
    shard.lru.splice(shard.lru.begin(), shard.lru, it->second);
  }
  Bucket& b = *it->second;
  Refill(b, now);
  if (b.tokens >= cost) {
    b.tokens -= cost;
    return {true, 0};
  }
  const double wait = (cost - b.tokens) / b.limit.per_second;
  const auto seconds = static_cast<std::int64_t>(std::ceil(std::min(wait, 86400.0)));
  return {false, std::max<std::int64_t>(1, seconds)};
}

size_t RateLimiter::bucket_count() const {
  size_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard lock(s->mu);
    n += s->lru.size();
  }
  return n;
}

std::string SourceRateKey(const net::IpAddress& source, std::string_view key_class, int v6_prefix) {
  std::string key(key_class);
  key.push_back(':');
  if (source.is_v4()) return key + source.ToString();
  auto net = net::Cidr::Of(source, v6_prefix);
  return key + (net ? net->ToString() : source.ToString());
}

ConcurrencyGate::Permit::Permit(Permit&& other) noexcept
    : gate_(std::exchange(other.gate_, nullptr)), retry_after_seconds_(other.retry_after_seconds_) {}

ConcurrencyGate::Permit& ConcurrencyGate::Permit::operator=(Permit&& other) noexcept {
  if (this != &other) {
    if (gate_ != nullptr) gate_->Release();
    gate_ = std::exchange(other.gate_, nullptr);
    retry_after_seconds_ = other.retry_after_seconds_;
  }
  return *this;
}

ConcurrencyGate::Permit::~Permit() {
  if (gate_ != nullptr) gate_->Release();
}

Result<std::unique_ptr<ConcurrencyGate>> ConcurrencyGate::Create(ConcurrencyGateOptions options) {
  if (options.max_in_flight == 0) {
    return Error::InvalidArgument("concurrency cap must be positive");
  }
  if (options.retry_after_min_seconds < 0 || options.retry_after_min_seconds > options.retry_after_max_seconds ||
      options.retry_after_max_seconds - options.retry_after_min_seconds > 86400) {
    return Error::InvalidArgument("retry-after range must satisfy 0 <= min <= max <= min+86400");
  }
  return std::unique_ptr<ConcurrencyGate>(new ConcurrencyGate(options));
}

ConcurrencyGate::Permit ConcurrencyGate::TryEnter() {
  if (in_flight_.fetch_add(1) < options_.max_in_flight) return Permit(this, 0);
  in_flight_.fetch_sub(1);
  // Randomness from libsodium: a predictable jitter would let clients synchronise anyway.
  if (crypto::InitCrypto()) {
    const auto span =
        static_cast<std::uint32_t>(options_.retry_after_max_seconds - options_.retry_after_min_seconds + 1);
    return Permit(nullptr, options_.retry_after_min_seconds + randombytes_uniform(span));
  }
  return Permit(nullptr, options_.retry_after_max_seconds);
}

}  // namespace provgate::defense
