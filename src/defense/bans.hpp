// Bans: how long (BanPolicy) and who is banned now (BanList, an in-memory cache in front of
// a BanStore, asked on every request).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <vector>

#include "base/clock.hpp"
#include "base/result.hpp"
#include "defense/ban_store.hpp"
#include "net/ip_address.hpp"

namespace provgate::defense {

struct BanPolicyOptions {
  Seconds base{600};           // first offence
  double factor = 2.0;         // each repeat multiplies the duration (>= 1)
  Seconds max{7 * 24 * 3600};  // cap
  // A new offence within this time after the previous ban expired counts as a repeat.
  Seconds repeat_memory{7 * 24 * 3600};
  // Operator ranges never banned, also not as part of an aggregate (/24, /64) ban.
  net::IpSet allowlist;
};

// Pure: no state, no clock.
class BanPolicy {
 public:
  // kInvalidArgument for base <= 0, factor < 1, max < base or negative repeat_memory.
  static Result<BanPolicy> Create(BanPolicyOptions options);

  // base * factor^(offence_count - 1), capped at max (offence_count < 1 counts as 1).
  Seconds Duration(int offence_count) const;
  // True when `source` overlaps the allowlist: banning it would ban an operator address.
  bool IsProtected(const net::Cidr& source) const;
  Seconds repeat_memory() const { return options_.repeat_memory; }

 private:
  explicit BanPolicy(BanPolicyOptions options) : options_(std::move(options)) {}
  BanPolicyOptions options_;
};

// Thread-safe (readers share a lock; IsBanned is the hot path).
class BanList {
 public:
  // `store` must outlive the list. `max_history` bounds remembered expired bans (for repeat
  // offences); the oldest are forgotten first.
  BanList(BanStore& store, BanPolicy policy, size_t max_history = 100000);

  // Replaces the cached active bans with the store's (at start, and periodically to pick up
  // bans made by other nodes or `provgate ban add|remove`). Keeps local history.
  Status Reload(TimePoint now);

  // Bans `source` for the policy's duration, growing with each repeat offence, and saves it.
  // Returns nullopt without banning when the allowlist protects the source, or when a ban of
  // it is in force (neither extended nor counted as another offence).
  Result<std::optional<Ban>> BanSource(const net::Cidr& source, std::string reason, TimePoint now);
  // An operator's ban with an explicit duration (counts as an offence too).
  Result<Ban> AddManual(const net::Cidr& source, std::string reason, Seconds duration, TimePoint now);
  // Lifts the ban of `source` (canonical CIDR text); kNotFound when neither the cache nor
  // the store has it. History is kept, so a re-offence still counts as a repeat.
  Status Remove(const net::Cidr& source);

  // The active ban covering `address` (host or aggregate), if any.
  std::optional<Ban> Find(const net::IpAddress& address, TimePoint now) const;
  bool IsBanned(const net::IpAddress& address, TimePoint now) const { return Find(address, now).has_value(); }
  // Active bans, ordered by source.
  std::vector<Ban> List(TimePoint now) const;

 private:
  struct Entry {
    net::Cidr cidr;
    Ban ban;
  };
  Status SaveLocked(const net::Cidr& source, Ban ban);
  void TrimHistoryLocked(std::int64_t now);

  BanStore& store_;
  BanPolicy policy_;
  size_t max_history_;
  mutable std::shared_mutex mu_;
  std::map<net::Cidr, Ban> bans_;  // active and remembered (expired) bans
  // Prefix lengths present per family, so Find masks the address once per length.
  std::map<std::pair<net::Family, int>, size_t> prefixes_;
};

}  // namespace provgate::defense
