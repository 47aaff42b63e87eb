// A check asked for at most once per interval; in between, its last answer is repeated. For
// a probe that balancers poll several times a second on every node (/readyz asks the
// database), so that it costs one round trip per node per interval whatever the polling
// rate. Thread-safe: callers that arrive while the check runs wait for it and get its
// answer; the interval counts from when an answer came.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>

#include "base/clock.hpp"
#include "base/result.hpp"

namespace provgate::api {

class ThrottledCheck {
 public:
  // `clock` must outlive the check.
  ThrottledCheck(std::function<Status()> check, std::chrono::milliseconds interval,
                 const SteadyClock& clock = SteadyClock::System())
      : check_(std::move(check)), interval_(interval), clock_(clock) {}

  Status operator()() {
    std::lock_guard lock(mu_);
    if (!answer_ || clock_.Now() - answered_ >= interval_) {
      answer_ = check_();
      answered_ = clock_.Now();
    }
    return *answer_;
  }

 private:
  const std::function<Status()> check_;
  const std::chrono::milliseconds interval_;
  const SteadyClock& clock_;
  std::mutex mu_;
  std::optional<Status> answer_;  // guarded by mu_
  SteadyTimePoint answered_;      // guarded by mu_
};

}  // namespace provgate::api
