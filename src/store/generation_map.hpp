// A bounded map whose entries count only at the data generation they were filled at
// (ProvenReads::DataGeneration): after any write the next lookup misses and the caller reads
// again (Find). The pipeline's render cache is built on it; the fleet cache drops changed
// entries itself and looks up whatever the generation (FindFresh). Not thread-safe: its
// owner locks.
//
// Entries also expire a maximum age after they were filled (kCacheMaxAge by default): the
// generation sees every write made through provgate, and the expiry bounds how long a
// change made behind its back (the sqlite3 shell, a restored database file, a deleted
// counter file) goes unseen.
#pragma once

#include <chrono>
#include <cstdint>
#include <unordered_map>
#include <utility>

#include "base/clock.hpp"
#include "store/data_changes.hpp"

namespace provgate::store {

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
  // The value filled less than the maximum age ago whatever its generation, for an owner
  // that drops changed entries itself (Erase); null if absent.
  const T* FindFresh(const Key& key) const {
    const auto it = map_.find(key);
    if (it == map_.end() || clock_.Now() - it->second.filled >= max_age_) return nullptr;
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
  void Erase(const Key& key) { map_.erase(key); }
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
