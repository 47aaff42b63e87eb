#include <fmt/format.h>

#include "core/lifecycle.hpp"
#include "crypto/random.hpp"
#include "pipeline/authorize.hpp"

namespace provgate::pipeline {

Result<std::optional<Refused>> Authorize(const StageDeps& deps, RequestState& ctx, const Identity& id,
                                         const core::Tenant& tenant, const vendors::UserAgentInfo& ua) {
  const core::Device& device = *id.device;

  // Lifecycle and provisioning window, evaluated now (no cron job).
  const core::DeviceState state = core::EffectiveState(device, ctx.now);
  if (state != device.state && ctx.side_effects) {
    PG_TRY_STATUS(
        RecordTransition(deps, ctx, device, device.state, state, "provisioning window ended without a fetch"));
  }
  switch (state) {
    case core::DeviceState::kStock: return Refused{Refusal::kDeviceNotAssigned};
    case core::DeviceState::kRetired: return Refused{Refusal::kDeviceRetired};
    case core::DeviceState::kExpired: return Refused{Refusal::kWindowExpired};
    case core::DeviceState::kAssigned:
    case core::DeviceState::kProvisioned: break;
  }

  // The tenant's policy.
  if (id.strength < tenant.min_strength) {
    return Refused{Refusal::kBelowPolicy, fmt::format("{} < {}", core::IdentityStrengthName(id.strength),
                                                      core::IdentityStrengthName(tenant.min_strength))};
  }
  if (!tenant.ip_ranges.empty() && !InTenantRanges(tenant, ctx.client)) {
    return Refused{Refusal::kOutsideIpRange};
  }
  if (!TransportAllowed(tenant, ctx.request, id.strength)) return Refused{Refusal::kPlainHttpNotAllowed};

  // Identity hygiene.
  if (ua.mac && *ua.mac != device.mac) {
    ctx.Scan(defense::ScanEvent::kWrongMac, ua.mac->str());
    return Refused{Refusal::kUserAgentMacMismatch};
  }
  // Certificate pinning: a vendor CA is not enough; the device's own key is.
  if (id.strength == core::IdentityStrength::kClientCert) {
    if (device.pin_spki.empty()) {
      if (ctx.side_effects) {
        PG_TRY(bool pinned, deps.writes.PinDevice(device.id, ctx.request.cert->spki_sha256));
        if (pinned) {
          LifecycleEvent(deps, ctx, device, "certificate pinned", {{"spki_sha256", ctx.request.cert->spki_sha256}});
        }
      }
    } else if (!crypto::ConstantTimeEquals(device.pin_spki, ctx.request.cert->spki_sha256)) {
      if (ctx.side_effects) {
        PG_TRY_STATUS(Lock(deps, ctx, device, "certificate key changed",
                           {{"pinned", device.pin_spki}, {"presented", ctx.request.cert->spki_sha256}}));
      }
      return Refused{Refusal::kCertificateKeyChanged};
    }
  }
  // Anomaly locks: a provisioned phone that moves network, or a first fetch long after assignment.
  if (tenant.anomaly_lock) {
    if (device.state == core::DeviceState::kProvisioned && !device.last_seen_ip.empty()) {
      auto last = net::IpAddress::Parse(device.last_seen_ip);
      const int prefix = ctx.client.is_v4() ? tenant.anomaly_prefix_v4 : tenant.anomaly_prefix_v6;
      auto net_of_last = last ? net::Cidr::Of(*last, prefix) : Result<net::Cidr>(Error::InvalidArgument(""));
      if (last && (last->family() != ctx.client.family() || !net_of_last || !net_of_last->Contains(ctx.client))) {
        if (ctx.side_effects) {
          PG_TRY_STATUS(Lock(deps, ctx, device, "network changed",
                             {{"last_seen_ip", device.last_seen_ip}, {"now", ctx.client.ToString()}}));
        }
        return Refused{Refusal::kNetworkChanged};
      }
    }
    if (device.state == core::DeviceState::kAssigned && !device.last_seen_at && tenant.late_first_fetch_days > 0 &&
        device.window_opens && ctx.now - *device.window_opens > std::int64_t{tenant.late_first_fetch_days} * 86400) {
      if (ctx.side_effects) {
        PG_TRY_STATUS(Lock(deps, ctx, device, "first seen late", {{"assigned", *device.window_opens}}));
      }
      return Refused{Refusal::kFirstSeenLate};
    }
  }
  return std::optional<Refused>();
}

}  // namespace provgate::pipeline
