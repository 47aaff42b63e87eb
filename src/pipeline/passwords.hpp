// The lines a rendered file may carry, with exactly the passwords the tenant's policy lets
// this response carry.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>
#include <vector>

#include "pipeline/stage.hpp"

namespace provgate::pipeline {

// The device's lines, every password removed. `stored_password`: whether a line had one.
Result<std::vector<core::Line>> LinesWithoutPasswords(const StageDeps& deps, const core::Device& device,
                                                      bool& stored_password);
// A claim still in flight after this long is taken as abandoned: its node would have
// released it or given it back long before (a request lives seconds).
inline constexpr std::chrono::seconds kAbandonedClaimAfter{60};
// What a device asked to come back is told (Retry-After) while another node's claim of its
// password is in flight: that node gives it back within a tenth of a second once it can.
inline constexpr std::int64_t kClaimInFlightRetryAfter = 1;

// Applies the tenant's password policy: wipes confirmed deliveries, claims the undelivered
// passwords this file carries (atomically: of concurrent requests exactly one gets each, and
// a file that leaves a password out does not spend it), and returns the lines with exactly
// the passwords this response may carry. A claim in flight (store::DeviceWrites::
// ReleaseClaim) is never confirmed: while younger than kAbandonedClaimAfter, one of this
// process is served without its password and one of another process refuses the request
// with 503 (kClaimInFlight); once older, any is given back (audited) and the request refused
// the same way, so the device's next fetch gets what it carried. A HEAD spends and confirms
// nothing.
Result<Step<std::vector<core::Line>>> LinesWithDeliverablePasswords(
    const StageDeps& deps, RequestState& ctx, const core::Device& device, const core::Tenant& tenant,
    const render::Template& tpl, const vendors::FileRoute& route, std::string_view file_name, bool& stored_password);

}  // namespace provgate::pipeline
