#include "bench/schedule.hpp"

#include <algorithm>
#include <cmath>

namespace provgate::bench {

std::int64_t OpenLoopSchedule::DueAt(std::uint64_t i) const {
  return static_cast<std::int64_t>(std::llround(static_cast<long double>(i) * 1e9L / static_cast<long double>(rate_)));
}

std::uint64_t OpenLoopSchedule::DueCount(std::int64_t elapsed_ns) const {
  if (elapsed_ns < 0 || limit_ == 0) return 0;
  auto n = static_cast<std::uint64_t>(
               std::floor(static_cast<long double>(elapsed_ns) * static_cast<long double>(rate_) / 1e9L)) +
           1;
  // Floating point may land one off at an exact boundary; settle it against DueAt.
  while (n > 0 && DueAt(n - 1) > elapsed_ns) --n;
  while (n < limit_ && DueAt(n) <= elapsed_ns) ++n;
  return std::min(n, limit_);
}

}  // namespace provgate::bench
