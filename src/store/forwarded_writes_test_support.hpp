// For tests: a DeviceWrites that passes every write on to another; a test's fake derives
// from it and overrides the writes it makes fail or change.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "store/device_writes.hpp"

namespace provgate::store {

// The store's writes, passed on; a test's fake overrides the ones it changes.
class ForwardedWrites : public DeviceWrites {
 public:
  explicit ForwardedWrites(DeviceWrites& w) : w_(w) {}
  Result<std::vector<core::Line>> ClaimPasswords(std::int64_t id, const std::vector<int>& lines, std::int64_t now,
                                                 std::string_view claim) override {
    return w_.ClaimPasswords(id, lines, now, claim);
  }
  Result<std::vector<int>> WipeDeliveredPasswords(std::int64_t id, std::int64_t at) override {
    return w_.WipeDeliveredPasswords(id, at);
  }
  Result<bool> TransitionState(std::int64_t id, core::DeviceState from, core::DeviceState to,
                               std::int64_t now) override {
    return w_.TransitionState(id, from, to, now);
  }
  Result<bool> PinDevice(std::int64_t id, const std::string& spki) override { return w_.PinDevice(id, spki); }
  Status LockDevice(std::int64_t id, const std::string& reason) override { return w_.LockDevice(id, reason); }
  Status ClearPin(std::int64_t id) override { return w_.ClearPin(id); }
  Result<bool> MarkConfigKeyDelivered(std::int64_t id, std::int64_t now, std::string_view claim) override {
    return w_.MarkConfigKeyDelivered(id, now, claim);
  }
  Result<bool> EndEngineerWindow(std::int64_t id, std::int64_t window_end, const std::string& password) override {
    return w_.EndEngineerWindow(id, window_end, password);
  }
  Result<GivenBack> GiveBackUndelivered(std::int64_t id, std::string_view claim) override {
    return w_.GiveBackUndelivered(id, claim);
  }
  Result<bool> ReleaseClaim(std::int64_t id, std::string_view claim, std::size_t lines) override {
    return w_.ReleaseClaim(id, claim, lines);
  }
  Result<GivenBack> GiveBackAbandonedClaim(std::int64_t id, std::string_view claim,
                                           std::int64_t claimed_before) override {
    return w_.GiveBackAbandonedClaim(id, claim, claimed_before);
  }

 protected:
  DeviceWrites& w_;
};

}  // namespace provgate::store
