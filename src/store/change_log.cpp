#include "store/change_log.hpp"

#include <algorithm>

namespace provgate::store {

bool DataChanges::Touches(const ChangedKey& key) const {
  return !keys || std::find(keys->begin(), keys->end(), key) != keys->end();
}

void ChangeLog::Record(std::optional<ChangedKey> key) {
  {
    std::lock_guard lock(mu_);
    const std::uint64_t next = generation_.load(std::memory_order_relaxed) + 1;
    if (steps_.size() == capacity_) steps_.pop_front();
    steps_.push_back(Step{next, key});
    generation_.store(next, std::memory_order_release);
  }
  changed_.notify_all();
}

DataChanges ChangeLog::ChangesSince(std::uint64_t generation) const {
  std::lock_guard lock(mu_);
  DataChanges out{generation_.load(std::memory_order_relaxed), std::vector<ChangedKey>{}};
  if (generation >= out.upto) return out;
  // Steps are numbered consecutively, so the log covers `generation` + 1 onwards exactly
  // when its oldest step is at most that.
  if (steps_.empty() || steps_.front().generation > generation + 1) {
    out.keys.reset();
    return out;
  }
  for (auto step = steps_.rbegin(); step != steps_.rend() && step->generation > generation; ++step) {
    if (!step->key) {
      out.keys.reset();
      return out;
    }
    out.keys->push_back(*step->key);
  }
  return out;
}

}  // namespace provgate::store
