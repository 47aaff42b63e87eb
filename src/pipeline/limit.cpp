#include "pipeline/limit.hpp"

#include "defense/counters.hpp"

namespace provgate::pipeline {

std::optional<Refused> RateLimit(Defenses& defenses, const net::IpAddress& client, const Identity* id) {
  // The key lives in memory the serving thread keeps: a keep-alive request allocates nothing.
  thread_local std::string rate_key;
  if (id != nullptr) {
    rate_key.assign("device:").append(id->device->mac.str());
  } else {
    rate_key = defense::SourceRateKey(client);
  }
  const auto rate = defenses.rate().Acquire(rate_key);
  if (rate.allowed) return std::nullopt;
  defenses.counters().Increment(defense::counter_names::kRateLimited);
  return Refused{Refusal::kRateLimited, {}, Answer::kTooManyRequests, rate.retry_after_seconds};
}

Refused ChargeRefusal(Defenses& defenses, const net::IpAddress& client, Refused refused) {
  if (defenses.rate().Acquire(defense::SourceRateKey(client, "refusal")).allowed) return refused;
  defenses.counters().Increment(defense::counter_names::kRateLimited);
  return Refused{Refusal::kRefusalsRateLimited, {}, Answer::kTooManyRequests};
}

}  // namespace provgate::pipeline
