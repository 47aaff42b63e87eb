// A bounded map whose entries count only at the data generation they were filled at
// (ProvenReads::DataGeneration): after any write the next lookup misses and the caller reads
// again. The fleet cache and the pipeline's render cache are built on it. Not thread-safe:
// its owner locks.
//
// Entries also expire kCacheMaxAge after they were filled: the generation sees every write
// made through provgate, and the expiry bounds how long a change made behind its back (the
// sqlite3 shell, a restored database file, a deleted counter file) goes unseen.
#pragma once

#include <chrono>
#include <cstdint>
#include <unordered_map>
#include <utility>

#include "base/clock.hpp"

namespace provgate::store {

inline constexpr std::chrono::seconds kCacheMaxAge{5};

template <typename Key, typename T>
class GenerationMap {
 public:
  // Ages are read from `clock`, which must outlive the map.
  explicit GenerationMap(size_t max_entries, std::chrono::steady_clock::duration max_age = kCacheMaxAge,
                         const SteadyClock& clock = SteadyClock::System())
      : max_entries_(max_entries), max_age_(max_age), clock_(clock) {}

  // The value filled at `generation` less than the maximum age ago, or null.
  const T* Find(const Key& key, std::uint64_t generation) const {
    const auto it = map_.find(key);
    if (it == map_.end() || it->second.generation != generation) return nullptr;
    if (clock_.Now() - it->second.filled >= max_age_) return nullptr;
    return &it->second.value;
  }
  // The value whatever its generation, for updates in place; null if absent.
  T* FindAny(const Key& key) {
    const auto it = map_.find(key);
    return it == map_.end() ? nullptr : &it->second.value;
  }
  // kStartedOver when the map was full and has been emptied to make room: starting over is
  // crude but bounded and cheap per request on average, and a fleet larger than the cache
  // still hits within each phone's boot, whose files come seconds apart. With 0 entries
  // allowed nothing is kept.
  enum class Put { kAdded, kReplaced, kRefused, kStartedOver };
  Put Insert(const Key& key, T value, std::uint64_t generation) {
    if (max_entries_ == 0) return Put::kRefused;
    auto it = map_.find(key);
    const auto now = clock_.Now();
    if (it != map_.end()) {
      // A read of an older generation does not replace one of a newer; of two at the same
      // generation the later wins, which is as current (writes bump after they commit).
      if (it->second.generation > generation) return Put::kRefused;
      it->second = Entry{std::move(value), generation, now};
      return Put::kReplaced;
    }
    const bool room = map_.size() < max_entries_;
    if (!room) map_.clear();
    map_.emplace(key, Entry{std::move(value), generation, now});
    return room ? Put::kAdded : Put::kStartedOver;
  }
  void Clear() { map_.clear(); }
  size_t size() const { return map_.size(); }

 private:
  struct Entry {
    T value;
    std::uint64_t generation = 0;
    SteadyTimePoint filled;
  };
  const size_t max_entries_;
  const std::chrono::steady_clock::duration max_age_;
  const SteadyClock& clock_;
  std::unordered_map<Key, Entry> map_;
};

}  // namespace provgate::store
