// A bounded map whose entries count only at the data generation they were filled at
// (Store::DataGeneration): after any write the next lookup misses and the caller reads
// again. The fleet cache and the pipeline's render cache are built on it. Not thread-safe:
// its owner locks.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <utility>

namespace provgate::store {

template <typename Key, typename T>
class GenerationMap {
 public:
  explicit GenerationMap(size_t max_entries) : max_entries_(max_entries) {}

  // The value filled at `generation`, or null.
  const T* Find(const Key& key, std::uint64_t generation) const {
    const auto it = map_.find(key);
    return it != map_.end() && it->second.generation == generation ? &it->second.value : nullptr;
  }
  // The value whatever its generation, for updates in place; null if absent.
  T* FindAny(const Key& key) {
    const auto it = map_.find(key);
    return it == map_.end() ? nullptr : &it->second.value;
  }
  // False when the map was full and has been emptied to make room: starting over is crude
  // but bounded and cheap per request on average, and a fleet larger than the cache still
  // hits within each phone's boot, whose files come seconds apart. With 0 entries allowed
  // nothing is kept.
  bool Put(const Key& key, T value, std::uint64_t generation) {
    if (max_entries_ == 0) return true;
    auto it = map_.find(key);
    if (it != map_.end()) {
      // Of two reads racing to fill one entry, the one of older data stays out.
      if (it->second.generation <= generation) it->second = Entry{std::move(value), generation};
      return true;
    }
    const bool room = map_.size() < max_entries_;
    if (!room) map_.clear();
    map_.emplace(key, Entry{std::move(value), generation});
    return room;
  }
  void Clear() { map_.clear(); }
  size_t size() const { return map_.size(); }

 private:
  struct Entry {
    T value;
    std::uint64_t generation = 0;
  };
  const size_t max_entries_;
  std::unordered_map<Key, Entry> map_;
};

}  // namespace provgate::store
