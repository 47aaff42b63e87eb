// Giving back what responses that never left had spent (Spent): their claimed passwords
// and their config key's plain copy become deliverable again, so the device's next fetch
// gets them. A give-back the store cannot do at once (the database away or failing over)
// waits here and is tried again (Retry) until it succeeds or kGiveUpAfter has passed: the
// claim id makes a late give-back touch only its own claim, and trying twice harmless.
//
// Audited, durably: "delivery given back" with the lines and key made deliverable again
// (and those no longer standing); "delivery give-back pending" when the first try failed;
// "delivery not given back" when a give-back is abandoned (too old, too many waiting, the
// server stops) or finds nothing standing under its claim (another fetch confirmed it, an
// operator replaced it), which leaves the device provisioned without that password until
// an operator re-activates it. Waiting give-backs live in memory: a crash leaves their
// claims standing (docs/cluster.md). Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "audit/audit_log.hpp"
#include "base/clock.hpp"
#include "base/result.hpp"
#include "pipeline/stage.hpp"
#include "store/device_writes.hpp"

namespace provgate::pipeline {

class GiveBacks {
 public:
  static constexpr std::chrono::minutes kGiveUpAfter{10};
  static constexpr std::size_t kMaxPending = 100'000;

  // `writes`, `audit` and `clock` must outlive this.
  GiveBacks(store::DeviceWrites& writes, audit::AuditLog& audit, const Clock& clock)
      : writes_(writes), audit_(audit), clock_(clock) {}

  // Gives back `spent` (nothing when its device_id is 0) for a response that was not sent
  // because of `cause`; keeps it for Retry when the store fails.
  void GiveBack(const Spent& spent, const std::string& cause);
  // Whether a give-back of `device_id` waits. Cheap: one atomic load while none waits, else
  // a hash lookup; the pipeline asks on every request that may spend something.
  bool Waiting(std::int64_t device_id) const;
  // Tries the waiting give-backs of `device_id` now: the device's own fetch must not find a
  // cut-off claim still standing (it would get no password, or its retry would count as the
  // confirmation that wipes one it never got). True when one was settled; an error (and
  // the give-back kept) when the store still refuses or a retry pass is under way (never
  // waits for one: the caller may be a serving thread).
  Result<bool> Settle(std::int64_t device_id);
  // Tries every waiting give-back once; abandons those older than kGiveUpAfter.
  void Retry();
  // At shutdown: one last try, then abandons what still waits.
  void Abandon();
  std::size_t pending() const;

 private:
  struct Entry {
    Spent spent;
    std::string cause;
    TimePoint since;
  };
  // True when settled: given back, or the store says there was nothing to give back.
  bool Try(const Spent& spent, const std::string& cause, bool retried);
  // Copies of the waiting give-backs (of `device_id`; 0: all).
  std::vector<Entry> Snapshot(std::int64_t device_id) const;
  void Remove(const std::vector<std::string>& claims);
  void Audit(const Spent& spent, const std::string& what, nlohmann::json detail);
  // With the detail of what the request knew it spent, the cause and why.
  void Audit(const Spent& spent, const std::string& what, const std::string& cause, const std::string& why);

  store::DeviceWrites& writes_;
  audit::AuditLog& audit_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::deque<Entry> waiting_;
  std::unordered_map<std::int64_t, std::size_t> devices_;  // device id -> its entries in waiting_
  std::atomic<std::size_t> count_{0};                      // waiting_.size(), read without the lock
  std::mutex tries_mu_;  // one Retry, Settle or Abandon at a time (Settle does not wait for it)
};

}  // namespace provgate::pipeline
