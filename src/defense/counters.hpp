// A tiny registry of named monotonic counters (bans, refusals by reason, rate-limit hits)
// for the metrics endpoint to export. Thread-safe: registration takes a mutex, increments
// are relaxed atomics on a handle that stays valid for the registry's lifetime.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace provgate::defense {

class Counter {
 public:
  void Increment(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Counters {
 public:
  // Names longer than this are cut; beyond kMaxCounters distinct names every new name maps
  // to "counters.overflow", so names built from request data cannot grow memory unbounded.
  static constexpr size_t kMaxNameLength = 128;
  static constexpr size_t kMaxCounters = 1024;

  // The counter called `name`, created at zero on first use. Keep the handle on hot paths.
  Counter& Get(std::string_view name);
  void Increment(std::string_view name, std::uint64_t n = 1) { Get(name).Increment(n); }
  // Current values by name.
  std::map<std::string, std::uint64_t> Snapshot() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Counter>, std::less<>> counters_;
};

// Names used by the defense building blocks' callers, so dashboards do not chase typos.
namespace counter_names {
inline constexpr std::string_view kBans = "bans";
inline constexpr std::string_view kRateLimited = "rate_limited";
inline constexpr std::string_view kShed = "shed";
inline constexpr std::string_view kScanSignals = "scan_signals";
inline constexpr std::string_view kIdentityMisuse = "identity_misuse";
inline constexpr std::string_view kLintWithheld = "lint_withheld";
// Refusals are "refusals.<reason>", e.g. "refusals.unknown_device".
inline constexpr std::string_view kRefusalPrefix = "refusals.";
}  // namespace counter_names

}  // namespace provgate::defense
