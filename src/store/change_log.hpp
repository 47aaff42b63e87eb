// A data generation that remembers what each step changed: a counter moved by Record, with
// the key of each of the last `capacity` steps, so ChangesSince can tell a cache which
// entries to drop instead of all of them. Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>

#include "store/data_changes.hpp"

namespace provgate::store {

class ChangeLog {
 public:
  explicit ChangeLog(size_t capacity = kDefaultCapacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  static constexpr size_t kDefaultCapacity = 65536;

  // One atomic load: cheap enough for every request.
  std::uint64_t Load() const { return generation_.load(std::memory_order_acquire); }
  // Counts one change, of `key`, or of anything (nullopt), and wakes WaitBeyond.
  void Record(std::optional<ChangedKey> key);
  // The changes after `generation`; keys none when one of them was of anything or they
  // reach back further than the log remembers.
  DataChanges ChangesSince(std::uint64_t generation) const;
  // Waits until the generation differs from `seen` or `limit` passes; false on the limit.
  template <typename Duration>
  bool WaitBeyond(std::uint64_t seen, Duration limit) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, limit, [&] { return Load() != seen; });
  }

 private:
  struct Step {
    std::uint64_t generation;
    std::optional<ChangedKey> key;
  };
  const size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::atomic<std::uint64_t> generation_{0};  // written under mu_
  std::deque<Step> steps_;                    // the newest last
};

}  // namespace provgate::store
