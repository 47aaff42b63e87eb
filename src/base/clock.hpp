// Time as an injectable seam: production uses SystemClock, tests a ManualClock they advance,
// so nothing in a test sleeps or reads the wall clock.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace provgate {

using TimePoint = std::chrono::system_clock::time_point;
using Seconds = std::chrono::seconds;

class Clock {
 public:
  virtual ~Clock() = default;
  // Thread-safe.
  virtual TimePoint Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start) : now_(start.time_since_epoch().count()) {}
  TimePoint Now() const override { return TimePoint(TimePoint::duration(now_.load())); }
  void Advance(TimePoint::duration d) { now_ += d.count(); }
  void Set(TimePoint t) { now_ = t.time_since_epoch().count(); }

 private:
  std::atomic<TimePoint::duration::rep> now_;
};

// Unix seconds, the unit every store column and audit field uses.
inline std::int64_t ToUnix(TimePoint t) { return std::chrono::duration_cast<Seconds>(t.time_since_epoch()).count(); }
inline TimePoint FromUnix(std::int64_t s) { return TimePoint(Seconds(s)); }

// RFC 3339 UTC with milliseconds, e.g. 2026-11-26T03:37:32.123Z.
std::string FormatRfc3339(TimePoint t);
// The same, appended to `out` (no string of its own: the audit writer's form).
void AppendRfc3339(std::string& out, TimePoint t);
// The inverse, for exactly that form; nothing for anything else.
std::optional<TimePoint> ParseRfc3339(std::string_view text);

}  // namespace provgate
