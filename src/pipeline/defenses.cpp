#include "pipeline/defenses.hpp"

#include <sodium.h>

#include "crypto/key_file.hpp"

namespace provgate::pipeline {

DefenseOptions DefaultDefenseOptions() {
  DefenseOptions o;
  // A phone fetches 2-6 files per boot; a burst of 20 covers a boot and its retries.
  o.rate.classes["device"] = defense::RateLimit{2.0, 20.0};
  // Unauthenticated traffic per source (or per /64): generous enough for a NAT full of phones
  // that are still being challenged, tight enough to slow a scanner.
  o.rate.classes["ip"] = defense::RateLimit{50.0, 200.0};
  o.rate.fallback = defense::RateLimit{50.0, 200.0};
  // Refusals decided before identification (banned source, bad method or path): a client
  // that keeps earning them is answered 429 after this budget, whatever it sends.
  o.rate.classes["refusal"] = defense::RateLimit{5.0, 100.0};
  return o;
}

Result<std::unique_ptr<Defenses>> Defenses::Create(defense::BanStore& bans, const Clock& clock,
                                                   DefenseOptions options) {
  std::unique_ptr<Defenses> d(new Defenses(std::move(options)));
  PG_TRY(auto policy, defense::BanPolicy::Create(d->options_.bans));
  d->bans_ = std::make_unique<defense::BanList>(bans, std::move(policy));
  // Bans live in the store: they survive restarts and are shared by nodes.
  PG_TRY_STATUS(d->bans_->Reload(clock.Now()));
  PG_TRY(d->scan_, defense::ScanDetector::Create(d->options_.scan));
  PG_TRY(d->rate_, defense::RateLimiter::Create(clock, d->options_.rate));
  PG_TRY(d->gate_, defense::ConcurrencyGate::Create(d->options_.concurrency));
  if (d->options_.nonce_key_file.empty()) {
    d->nonces_ = std::make_unique<defense::NonceManager>(clock, d->options_.nonces);
  } else {
    std::array<unsigned char, defense::NonceManager::kKeySize> key{};
    PG_TRY_STATUS(crypto::OpenOrCreateKeyFile(d->options_.nonce_key_file, key,
                                              {"nonce key file", "digest nonces on every node"}));
    d->nonces_ = std::make_unique<defense::NonceManager>(clock, d->options_.nonces, key);
    sodium_memzero(key.data(), key.size());
  }
  return d;
}

}  // namespace provgate::pipeline
