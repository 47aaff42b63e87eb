#include "base/clock.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <ctime>
#include <iterator>

namespace provgate {

const SteadyClock& SteadyClock::System() {
  static const SystemSteadyClock clock;
  return clock;
}

SteadyTimePoint ManualSteadyClock::Now() const {
  std::lock_guard lock(mu_);
  return now_;
}

// The waiter is registered before it reads the time, and Advance notifies it while holding
// its mutex: an Advance either comes before the read (and is seen) or finds the waiter
// registered and notifies it once it waits, so no wake-up is lost.
void ManualSteadyClock::WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                                  SteadyTimePoint deadline) const {
  const Waiter self{&cv, lock.mutex()};
  {
    std::lock_guard guard(mu_);
    if (now_ >= deadline) return;
    waiters_.push_back(self);
  }
  waiters_changed_.notify_all();
  cv.wait(lock);
  {
    std::lock_guard guard(mu_);
    const auto it = std::find_if(waiters_.begin(), waiters_.end(),
                                 [&](const Waiter& w) { return w.cv == self.cv && w.mutex == self.mutex; });
    if (it != waiters_.end()) waiters_.erase(it);
  }
  waiters_changed_.notify_all();
}

void ManualSteadyClock::Advance(std::chrono::steady_clock::duration d) {
  std::vector<Waiter> waiting;
  {
    std::lock_guard guard(mu_);
    now_ += d;
    waiting = waiters_;
  }
  for (const Waiter& w : waiting) {
    std::lock_guard guard(*w.mutex);
    w.cv->notify_all();
  }
}

bool ManualSteadyClock::AwaitWaiters(size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return waiters_changed_.wait_for(lock, timeout, [&] { return waiters_.size() >= n; });
}

size_t ManualSteadyClock::waiters() const {
  std::lock_guard lock(mu_);
  return waiters_.size();
}

std::string FormatRfc3339(TimePoint t) {
  std::string out;
  AppendRfc3339(out, t);
  return out;
}

void AppendRfc3339(std::string& out, TimePoint t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  fmt::format_to(std::back_inserter(out), "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms % 1000);
}

std::optional<TimePoint> ParseRfc3339(std::string_view text) {
  static constexpr std::string_view kForm = "dddd-dd-ddTdd:dd:dd.dddZ";
  if (text.size() != kForm.size()) return std::nullopt;
  for (size_t i = 0; i < kForm.size(); ++i) {
    const bool digit = text[i] >= '0' && text[i] <= '9';
    if (kForm[i] == 'd' ? !digit : text[i] != kForm[i]) return std::nullopt;
  }
  auto num = [&](size_t pos, size_t len) {
    int v = 0;
    for (size_t i = pos; i < pos + len; ++i) v = v * 10 + (text[i] - '0');
    return v;
  };
  std::tm tm{};
  tm.tm_year = num(0, 4) - 1900;
  tm.tm_mon = num(5, 2) - 1;
  tm.tm_mday = num(8, 2);
  tm.tm_hour = num(11, 2);
  tm.tm_min = num(14, 2);
  tm.tm_sec = num(17, 2);
  if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60) {
    return std::nullopt;
  }
  const std::time_t secs = timegm(&tm);
  return TimePoint(std::chrono::seconds(secs) + std::chrono::milliseconds(num(20, 3)));
}

}  // namespace provgate
