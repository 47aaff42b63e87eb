// Devices whose rendered configs fail the policy linter: provgate serves them nothing, so one
// device's variables never take a whole tenant (or the server) down, and a phone never gets
// a config with a hardening hole. Filled at start-up (app::App::CheckTemplates); an entry is
// linted again, through the caller's `relint`, once the data changed since it was checked.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/mac_address.hpp"

namespace provgate::pipeline {

class WithheldDevices {
 public:
  // Lints the device of `mac` as it is now; returns the first error finding ("file rule:
  // message"), or "" when its configs are clean. Called without any lock held.
  using Relint = std::function<std::string(const core::MacAddress& mac)>;

  explicit WithheldDevices(Relint relint) : relint_(std::move(relint)) {}

  // Thread-safe.
  void Withhold(const core::MacAddress& mac, std::string why, std::uint64_t generation);
  // Why `mac` is withheld at data `generation`, or nullopt when it is served. A device with
  // no entry costs one atomic load when nothing is withheld. Thread-safe.
  std::optional<std::string> Reason(const core::MacAddress& mac, std::uint64_t generation);
  size_t size() const;

 private:
  struct Entry {
    std::string why;
    std::uint64_t generation = 0;
  };
  Relint relint_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;  // by canonical MAC
  std::atomic<size_t> count_{0};
};

}  // namespace provgate::pipeline
