// The targeted writes of the request path and of the operator's lifecycle commands on one
// device: password claims and wipes, state transitions, pin, lock, the key-delivered mark,
// and giving back what an unsent response spent. Each touches only its own columns, so it
// never undoes a concurrent state transition or password claim. Implementations are
// thread-safe; every write here changes ProvenReads::DataGeneration once committed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "core/model.hpp"

namespace provgate::store {

class DeviceWrites {
 public:
  virtual ~DeviceWrites() = default;

  // Atomically marks the stored, not yet delivered passwords of the device's lines `indexes`
  // as delivered at `now` and returns those lines with their clear passwords (lines outside
  // `indexes` are untouched: a file that does not carry a line's password must not spend
  // it). Concurrent callers (threads or processes) never receive the same line: this is what
  // makes deliver-once exactly once.
  virtual Result<std::vector<core::Line>> ClaimPasswords(std::int64_t device_id, const std::vector<int>& indexes,
                                                         std::int64_t now) = 0;
  // Deletes the ciphertext of passwords delivered at or before `delivered_at_or_before`;
  // returns the indexes of the lines whose password was wiped.
  virtual Result<std::vector<int>> WipeDeliveredPasswords(std::int64_t device_id,
                                                          std::int64_t delivered_at_or_before) = 0;
  // Compare-and-set of the lifecycle state (also stamps state_changed_at); false when the
  // device was no longer in `from`, so only one of several racing requests makes a transition.
  virtual Result<bool> TransitionState(std::int64_t device_id, core::DeviceState from, core::DeviceState to,
                                       std::int64_t now) = 0;
  // Sets the certificate pin only if none is recorded; false when another pin is already set.
  virtual Result<bool> PinDevice(std::int64_t device_id, const std::string& spki_sha256) = 0;
  // Locks (reason non-empty) or unlocks (reason empty) a device.
  virtual Status LockDevice(std::int64_t device_id, const std::string& reason) = 0;
  // Forgets the certificate pin (the next authenticated fetch pins again).
  virtual Status ClearPin(std::int64_t device_id) = 0;
  // Records that the device's first plain copy of an encrypted file was sent (core::Device::
  // config_key_delivered_at), only if none was recorded; false when another request
  // recorded it first.
  virtual Result<bool> MarkConfigKeyDelivered(std::int64_t device_id, std::int64_t now) = 0;
  // Ends the engineer window `window_end` (core::Device::engineer_window_ends) of the device:
  // stores `admin_password` (sealed) in place of the one the engineer knows and clears the
  // window, only if that window is still recorded; false when another request ended it first
  // or an operator changed the device's web admin password since.
  virtual Result<bool> EndEngineerWindow(std::int64_t device_id, std::int64_t window_end,
                                         const std::string& admin_password) = 0;
  // Undoes what ClaimPasswords(device_id, lines, spent_at) and, with `config_key`,
  // MarkConfigKeyDelivered(device_id, spent_at) recorded, for a response that never left
  // (its audit record could not be committed): those passwords count as undelivered again
  // and the key's plain copy as unsent, in one transaction. What changed since stays: a
  // password wiped or claimed at another time, a key marked at another time.
  virtual Status GiveBackUndelivered(std::int64_t device_id, const std::vector<int>& lines, std::int64_t spent_at,
                                     bool config_key) = 0;
};

}  // namespace provgate::store
