// Lifecycle rules (docs/lifecycle.md), as pure functions of a device and the time.
#pragma once

#include <cstdint>

#include "core/model.hpp"

namespace provgate::core {

// The state a device is in at `now`: an assigned device whose provisioning window has
// ended is expired even before any request or command has recorded the transition, so
// expiry needs no background job.
DeviceState EffectiveState(const Device& d, std::int64_t now);

// Whether a delivered password counts as confirmed at `now` (the device has it).
// grace 0: any later request of the device confirms; otherwise `grace_seconds` after delivery.
// Returns the latest delivery time that is confirmed at `now`.
std::int64_t ConfirmedDeliveryCutoff(const Tenant& t, std::int64_t now);

}  // namespace provgate::core
