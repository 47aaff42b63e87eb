// Limit: the request's share of the rate limits. A proven device has its own bucket, so
// phones behind one NAT address never share one; everything unauthenticated is limited per
// source, and refusals decided from the request line alone draw on a per-source refusal
// budget, so a flood of them is answered 429 cheaply.
#pragma once

#include <optional>

#include "net/ip_address.hpp"
#include "pipeline/defenses.hpp"
#include "pipeline/refusal.hpp"
#include "pipeline/stage.hpp"

namespace provgate::pipeline {

// The 429 of a request whose bucket is empty (the device's for a proven `id`, else the
// source's), or nothing.
std::optional<Refused> RateLimit(Defenses& defenses, const net::IpAddress& client, const Identity* id);

// `refused`, or a 429 when the source's refusal budget is spent.
Refused ChargeRefusal(Defenses& defenses, const net::IpAddress& client, Refused refused);

}  // namespace provgate::pipeline
