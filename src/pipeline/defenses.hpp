// The scan and abuse defences the pipeline consults on every request: bans,
// scan detection, rate limits, load shedding, digest nonces and counters, built once from
// the [defense] section of the config. Thread-safe.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "base/clock.hpp"
#include "defense/ban_store.hpp"
#include "defense/bans.hpp"
#include "defense/counters.hpp"
#include "defense/digest.hpp"
#include "defense/rate_limiter.hpp"
#include "defense/scan_detector.hpp"
#include "net/forwarded.hpp"

namespace provgate::pipeline {

struct DefenseOptions {
  net::TrustedProxies trusted_proxies;  // forwarding headers honoured only from these peers
  std::string realm = "provgate";       // HTTP digest realm
  // Digest algorithms offered and accepted, in challenge order; Basic (over TLS only) is
  // verified against the SHA-256 HA1.
  std::vector<defense::DigestAlgorithm> digest_algorithms{defense::DigestAlgorithm::kSha256,
                                                          defense::DigestAlgorithm::kMd5};
  defense::RateLimiterOptions rate;  // key classes "device", "ip", "refusal"
  defense::ConcurrencyGateOptions concurrency;
  defense::ScanDetectorOptions scan;
  defense::BanPolicyOptions bans;
  defense::NonceManagerOptions nonces;
  // The digest nonces' HMAC key (crypto::OpenOrCreateKeyFile), shared by every node behind
  // one balancer so that a nonce one node issues verifies on all. Empty: a random key per
  // process, and a nonce answered to another node is refused with a fresh challenge.
  std::filesystem::path nonce_key_file;
  std::filesystem::path uploads_dir;  // where phone uploads land, apart from everything else
};

// Default limits for a boot storm: authenticated devices get their own buckets, so hundreds
// of phones behind one NAT address never share one.
DefenseOptions DefaultDefenseOptions();

class Defenses {
 public:
  static Result<std::unique_ptr<Defenses>> Create(defense::BanStore& bans, const Clock& clock, DefenseOptions options);

  const DefenseOptions& options() const { return options_; }
  defense::BanList& bans() { return *bans_; }
  defense::ScanDetector& scan() { return *scan_; }
  defense::RateLimiter& rate() { return *rate_; }
  defense::ConcurrencyGate& gate() { return *gate_; }
  defense::NonceManager& nonces() { return *nonces_; }
  defense::Counters& counters() { return counters_; }

 private:
  explicit Defenses(DefenseOptions options) : options_(std::move(options)) {}
  DefenseOptions options_;
  std::unique_ptr<defense::BanList> bans_;
  std::unique_ptr<defense::ScanDetector> scan_;
  std::unique_ptr<defense::RateLimiter> rate_;
  std::unique_ptr<defense::ConcurrencyGate> gate_;
  std::unique_ptr<defense::NonceManager> nonces_;
  defense::Counters counters_;
};

}  // namespace provgate::pipeline
