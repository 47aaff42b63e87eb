// A cache of device certificates whose chain already verified on one TLS context. In a boot
// storm every phone reconnects with the certificate it used a minute ago; building and
// checking its chain again costs about a sixth of the server's handshake CPU. The
// handshake's own CertificateVerify signature (proof that the peer holds the key) is
// always checked by OpenSSL; only the CA-signature chain of an identical certificate is
// reused. An entry is honoured only inside the validity of every certificate of the chain
// it verified with, and a cache belongs to one context: trust anchors loaded into a new
// context start with an empty cache.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <unordered_map>

namespace provgate::tls {

class VerifiedCertCache {
 public:
  using Key = std::array<unsigned char, 32>;  // SHA-256 of the certificate's DER

  // Holds at most `capacity` entries (older ones are dropped a generation at a time).
  explicit VerifiedCertCache(std::size_t capacity);

  // Whether `key` verified before and `now` (unix seconds) lies inside the validity window
  // recorded with it.
  bool Contains(const Key& key, std::int64_t now);
  // Records a verified chain valid from `not_before` to `not_after` (the intersection of
  // its certificates' validity).
  void Insert(const Key& key, std::int64_t not_before, std::int64_t not_after);

  std::uint64_t hits() const { return hits_.load(std::memory_order_relaxed); }
  std::uint64_t misses() const { return misses_.load(std::memory_order_relaxed); }
  std::size_t size() const;

 private:
  struct Validity {
    std::int64_t not_before;
    std::int64_t not_after;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept;
  };
  using Map = std::unordered_map<Key, Validity, KeyHash>;

  const std::size_t generation_capacity_;
  mutable std::mutex mu_;
  // Two generations: inserts go to `current_`; when it is full it becomes `previous_` and
  // the old previous is dropped, so memory stays bounded without per-entry LRU links.
  Map current_;
  Map previous_;
  std::atomic<std::uint64_t> hits_{0};
  std::atomic<std::uint64_t> misses_{0};
};

}  // namespace provgate::tls
