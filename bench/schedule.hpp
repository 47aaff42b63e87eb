// Open-loop arrival schedule: request i is due at start + i / rate, whatever happened to the
// requests before it. Latency is counted from this scheduled time, so a server that stalls
// is charged for the queue it causes (no coordinated omission).
#pragma once

#include <cstdint>

namespace provgate::bench {

class OpenLoopSchedule {
 public:
  // rate: requests per second, > 0. limit: total requests to schedule.
  OpenLoopSchedule(double rate, std::uint64_t limit) : rate_(rate), limit_(limit) {}

  // Nanoseconds after the start at which request i is due. Computed from i, not by adding
  // periods, so rounding never accumulates into drift.
  std::int64_t DueAt(std::uint64_t i) const;

  // How many requests are due at elapsed_ns after the start (request 0 is due at 0), capped
  // by the limit. Monotonic in elapsed_ns.
  std::uint64_t DueCount(std::int64_t elapsed_ns) const;

  double rate() const { return rate_; }
  std::uint64_t limit() const { return limit_; }

 private:
  double rate_;
  std::uint64_t limit_;
};

}  // namespace provgate::bench
