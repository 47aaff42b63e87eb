#include "pipeline/give_back.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <iterator>
#include <utility>
#include <vector>

namespace provgate::pipeline {

void GiveBacks::Audit(const Spent& spent, const std::string& what, const std::string& cause, const std::string& why) {
  Audit(spent, what, {{"lines", spent.lines}, {"config_key", spent.config_key}, {"cause", cause}, {"why", why}});
}

void GiveBacks::Audit(const Spent& spent, const std::string& what, nlohmann::json detail) {
  detail["claim"] = spent.claim;
  // Durable: each says what became of a secret (DESIGN invariant 7).
  const auto r = audit::InfoRecord(clock_.Now(), "lifecycle", "server", what, spent.mac, std::move(detail));
  if (auto st = audit_.Write(r, audit::Durability::kDurable); !st) {
    spdlog::error("audit write failed: {}", st.error().message);
  }
}

bool GiveBacks::Try(const Spent& spent, const std::string& cause, bool retried) {
  const auto given = writes_.GiveBackUndelivered(spent.device_id, spent.claim);
  if (!given) {
    // Said once; the retries show in provgate_give_backs_waiting.
    if (!retried) {
      spdlog::error("could not give back the passwords or key of a response that never left ({}), trying again: {}",
                    spent.mac, given.error().message);
    }
    return false;
  }
  std::vector<int> gone;  // claimed as far as the request knew, no longer standing
  for (int line : spent.lines) {
    if (std::find(given->lines.begin(), given->lines.end(), line) == given->lines.end()) gone.push_back(line);
  }
  const bool key_gone = spent.config_key && !given->config_key;
  // A first try that finds nothing, for a claim that had taken nothing as far as the
  // request knew, settles a claim that never committed: nothing to say.
  if (!given->empty()) {
    Audit(spent, "delivery given back",
          {{"lines", given->lines},
           {"config_key", given->config_key},
           {"cause", cause},
           {"retried", retried},
           {"not_standing", gone}});
  } else if (retried || !gone.empty() || key_gone) {
    // Nothing stood under the claim: it never committed, or meanwhile another fetch took
    // the password as confirmed (and wiped it) or an operator replaced the line or key.
    Audit(spent, "delivery not given back", cause,
          "nothing stands under this claim any more: it never committed, or another fetch confirmed it, or "
          "another node gave it back as abandoned, or an operator replaced the line or key");
  }
  return true;
}

void GiveBacks::GiveBack(const Spent& spent, const std::string& cause) {
  if (spent.device_id == 0 || Try(spent, cause, false)) return;
  std::unique_lock lock(mu_);
  if (waiting_.size() >= kMaxPending) {
    lock.unlock();
    Audit(spent, "delivery not given back", cause, "too many give-backs waiting for the store");
    return;
  }
  waiting_.push_back({spent, cause, clock_.Now()});
  ++devices_[spent.device_id];
  count_.store(waiting_.size(), std::memory_order_release);
  lock.unlock();
  Audit(spent, "delivery give-back pending", cause, "the store failed; tried again until it answers");
}

bool GiveBacks::Waiting(std::int64_t device_id) const {
  if (count_.load(std::memory_order_acquire) == 0) return false;
  std::lock_guard lock(mu_);
  return devices_.contains(device_id);
}

// Entries stay in waiting_ while they are tried (so Waiting sees them); the settled ones,
// named by their claim id, are removed afterwards.
void GiveBacks::Remove(const std::vector<std::string>& claims) {
  if (claims.empty()) return;
  std::lock_guard lock(mu_);
  std::erase_if(waiting_, [&](const auto& w) {
    if (std::find(claims.begin(), claims.end(), w.spent.claim) == claims.end()) return false;
    if (const auto it = devices_.find(w.spent.device_id); it != devices_.end() && --it->second == 0) {
      devices_.erase(it);
    }
    return true;
  });
  count_.store(waiting_.size(), std::memory_order_release);
}

std::vector<GiveBacks::Entry> GiveBacks::Snapshot(std::int64_t device_id) const {
  std::lock_guard lock(mu_);
  std::vector<Entry> out;
  for (const auto& w : waiting_) {
    if (device_id == 0 || w.spent.device_id == device_id) out.push_back(w);
  }
  return out;
}

Result<bool> GiveBacks::Settle(std::int64_t device_id) {
  // Never behind a retry pass, which may wait for a database that is away: the request
  // fails at once instead, and the pass settles the device's give-back.
  std::unique_lock one(tries_mu_, std::try_to_lock);
  if (!one.owns_lock()) return Error::Unavailable("an earlier claim of this device is being given back");
  std::vector<std::string> settled;
  bool refused = false;
  for (const auto& w : Snapshot(device_id)) {
    if (!Try(w.spent, w.cause, true)) {
      refused = true;
      break;
    }
    settled.push_back(w.spent.claim);
  }
  Remove(settled);
  if (refused) return Error::Unavailable("the store refused to give back an earlier claim of this device");
  return !settled.empty();
}

void GiveBacks::Retry() {
  std::lock_guard one(tries_mu_);
  std::vector<std::string> done;
  const TimePoint now = clock_.Now();
  // After one refusal the store is taken to be away: the rest of the pass only abandons
  // what is too old, so a pass costs at most one wait for the database.
  bool away = false;
  for (const auto& w : Snapshot(0)) {
    if (!away && Try(w.spent, w.cause, true)) {
      done.push_back(w.spent.claim);
      continue;
    }
    away = true;
    if (now - w.since >= kGiveUpAfter) {
      Audit(w.spent, "delivery not given back", w.cause, "the store failed for too long");
      done.push_back(w.spent.claim);
    }
  }
  Remove(done);
}

void GiveBacks::Abandon() {
  Retry();
  std::lock_guard one(tries_mu_);
  std::vector<std::string> left;
  for (const auto& w : Snapshot(0)) {
    Audit(w.spent, "delivery not given back", w.cause, "the server stopped while the store failed");
    left.push_back(w.spent.claim);
  }
  Remove(left);
}

std::size_t GiveBacks::pending() const {
  std::lock_guard lock(mu_);
  return waiting_.size();
}

}  // namespace provgate::pipeline
