// Time as an injectable seam: production uses SystemClock, tests a ManualClock they advance,
// so nothing in a test sleeps or reads the wall clock.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

// Elapsed time as an injectable seam: what waits for a delay or measures an age reads a
// SteadyClock, so a test moves time with ManualSteadyClock::Advance instead of sleeping.
using SteadyTimePoint = std::chrono::steady_clock::time_point;

class SteadyClock {
 public:
  virtual ~SteadyClock() = default;
  // Thread-safe. Never goes backwards.
  virtual SteadyTimePoint Now() const = 0;
  // Waits on `cv`, whose mutex `lock` holds, until it is notified or this clock reaches
  // `deadline`; may return early (spuriously), so callers check their condition again.
  virtual void WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                         SteadyTimePoint deadline) const = 0;
  // The process's steady clock, for everything that is not a test.
  static const SteadyClock& System();
};

// Waits as above until `done()` holds (true) or the clock reaches `deadline` (done() then).
template <typename Predicate>
bool WaitUntil(const SteadyClock& clock, std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
               SteadyTimePoint deadline, Predicate done) {
  while (!done()) {
    if (clock.Now() >= deadline) return done();
    clock.WaitUntil(cv, lock, deadline);
  }
  return true;
}

class SystemSteadyClock final : public SteadyClock {
 public:
  SteadyTimePoint Now() const override { return std::chrono::steady_clock::now(); }
  void WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                 SteadyTimePoint deadline) const override {
    cv.wait_until(lock, deadline);
  }
};

// A steady clock that moves only when told. A thread waiting on it for a deadline wakes when
// Advance reaches it. Thread-safe; a waiter's condition variable and mutex must outlive any
// Advance that may still notify it (advance the clock only while the objects waiting exist).
class ManualSteadyClock final : public SteadyClock {
 public:
  ManualSteadyClock() = default;
  SteadyTimePoint Now() const override;
  void WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                 SteadyTimePoint deadline) const override;
  // Moves the clock forward and wakes every thread waiting on it.
  void Advance(std::chrono::steady_clock::duration d);
  // Waits (in real time, at most `timeout`) until at least `n` threads wait on this clock:
  // a test's sign that a thread is waiting out a deadline rather than working.
  bool AwaitWaiters(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;
  size_t waiters() const;

 private:
  struct Waiter {
    std::condition_variable* cv;
    std::mutex* mutex;
  };
  mutable std::mutex mu_;
  mutable std::condition_variable waiters_changed_;
  SteadyTimePoint now_{};
  mutable std::vector<Waiter> waiters_;
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
