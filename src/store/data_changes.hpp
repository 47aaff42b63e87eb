// What changed in a store's data after a data generation (ProvenReads::DataGeneration): the
// keys a cache drops so that it can keep everything else.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

namespace provgate::store {

// How long a cache keeps an entry no counted change touched, where a backend cannot count
// every change: one made behind provgate's back (a shell on the database file, a restored
// backup) is seen after this at the latest.
inline constexpr std::chrono::seconds kCacheMaxAge{5};

// A device (its row or its lines) or a tenant, by id.
struct ChangedKey {
  enum class Kind : std::uint8_t { kDevice, kTenant };
  Kind kind = Kind::kDevice;
  std::int64_t id = 0;

  static ChangedKey Device(std::int64_t id) { return {Kind::kDevice, id}; }
  static ChangedKey Tenant(std::int64_t id) { return {Kind::kTenant, id}; }
  friend bool operator==(const ChangedKey&, const ChangedKey&) = default;
};

// The changes after one generation up to `upto`: the keys written, or none (nullopt) when
// the store cannot tell which, and anything may have changed.
struct DataChanges {
  std::uint64_t upto = 0;
  std::optional<std::vector<ChangedKey>> keys;

  bool Touches(const ChangedKey& key) const;
};

}  // namespace provgate::store
