// The targeted writes of the request path and of the operator's lifecycle commands on one
// device: password claims and wipes, state transitions, pin, lock, the key-delivered mark,
// and giving back what an unsent response spent. Each touches only its own columns, so it
// never undoes a concurrent state transition or password claim. Implementations are
// thread-safe; every write here changes ProvenReads::DataGeneration once committed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "core/model.hpp"

namespace provgate::store {

// What GiveBackUndelivered made deliverable again.
struct GivenBack {
  std::vector<int> lines;
  bool config_key = false;
  bool empty() const { return lines.empty() && !config_key; }
};

// A new claim id: 128 random bits, hex, of which the first 64 are this process's own (the
// same for every claim it makes). Unique per request, so a give-back never touches another
// request's claim, on any node.
std::string NewClaimId();
// Whether `claim` was made by this process (NewClaimId).
bool IsOwnClaim(std::string_view claim);

class DeviceWrites {
 public:
  virtual ~DeviceWrites() = default;

  // Atomically marks the stored, not yet delivered passwords of the device's lines `indexes`
  // as delivered at `now` by the claim `claim` (a random id of the request, ClaimId) and
  // returns those lines with their clear passwords (lines outside `indexes` are untouched: a
  // file that does not carry a line's password must not spend it). Concurrent callers
  // (threads or processes) never receive the same line: this is what makes deliver-once
  // exactly once. The claimed lines are in flight (core::Line::claim_in_flight) until
  // ReleaseClaim. An error may leave the claim committed (a connection lost before the
  // commit's acknowledgement): GiveBackUndelivered with the same id settles it.
  virtual Result<std::vector<core::Line>> ClaimPasswords(std::int64_t device_id, const std::vector<int>& indexes,
                                                         std::int64_t now, std::string_view claim) = 0;
  // Releases the claim `claim`, which took `lines` lines (>= 1): they are no longer in
  // flight, so a later fetch may confirm them. Called once the claim's record is durable and
  // just before its response leaves; true only when all `lines` lines were still in flight
  // under it and are released now. False when any is not (given back as abandoned by another
  // node, GiveBackAbandonedClaim, or given a new password meanwhile): the response must then
  // not leave, and GiveBackUndelivered settles the lines it did release.
  virtual Result<bool> ReleaseClaim(std::int64_t device_id, std::string_view claim, std::size_t lines) = 0;
  // Deletes the ciphertext of released passwords (not in flight) delivered at or before
  // `delivered_at_or_before`; returns the indexes of the lines whose password was wiped.
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
  // config_key_delivered_at) by the claim `claim`, only if none was recorded; false when
  // another request recorded it first.
  virtual Result<bool> MarkConfigKeyDelivered(std::int64_t device_id, std::int64_t now, std::string_view claim) = 0;
  // Ends the engineer window `window_end` (core::Device::engineer_window_ends) of the device:
  // stores `admin_password` (sealed) in place of the one the engineer knows and clears the
  // window, only if that window is still recorded; false when another request ended it first
  // or an operator changed the device's web admin password since.
  virtual Result<bool> EndEngineerWindow(std::int64_t device_id, std::int64_t window_end,
                                         const std::string& admin_password) = 0;
  // Undoes what ClaimPasswords and MarkConfigKeyDelivered recorded under `claim`, for a
  // response that never left: those passwords count as undelivered again and the key's
  // plain copy as unsent, in one transaction, and the lines and key given back are returned
  // (none when the claim never committed). Only rows whose last claim is `claim` change: a
  // password wiped or claimed by another request since, or a key marked by another, stays.
  // Idempotent, so a give-back whose outcome is unknown is simply tried again.
  virtual Result<GivenBack> GiveBackUndelivered(std::int64_t device_id, std::string_view claim) = 0;
  // Gives back a claim `claim` still in flight and made before `claimed_before`: a claim its
  // node never released nor gave back (the node died, or lost the database for longer than
  // a request lives), so its response never left. Like GiveBackUndelivered, in one
  // transaction: its lines in flight and, when there were any, the key's plain-copy mark of
  // the same claim. Nothing when the claim was released or given back meanwhile (the update
  // and ReleaseClaim exclude each other row by row).
  virtual Result<GivenBack> GiveBackAbandonedClaim(std::int64_t device_id, std::string_view claim,
                                                   std::int64_t claimed_before) = 0;
};

}  // namespace provgate::store
