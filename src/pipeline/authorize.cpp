// Authorize: whether a proven device may have anything now. Lifecycle and window first (a
// retired or expired device gets nothing, and nothing about it changes), then the tenant's
// policy, then identity hygiene (User-Agent, certificate pin, anomalies), which may change
// state (pin, lock) and so runs only for a device that is otherwise entitled; a HEAD is
// refused the same way but changes nothing.
#include <fmt/format.h>

#include "core/lifecycle.hpp"
#include "crypto/random.hpp"
#include "pipeline/pipeline.hpp"
#include "pipeline/stage_common.hpp"

namespace provgate::pipeline {

Result<std::optional<DeviceResponse>> Pipeline::Authorize(const Context& ctx, const Identity& id,
                                                          const core::Tenant& tenant,
                                                          const vendors::UserAgentInfo& ua) {
  const core::Device& device = *id.device;
  audit::AuditRecord& record = ctx.record;

  // Lifecycle and provisioning window, evaluated now (no cron job).
  const core::DeviceState state = core::EffectiveState(device, ctx.now);
  if (state != device.state && ctx.side_effects) {
    PG_TRY_STATUS(RecordTransition(ctx, device, device.state, state,
                                   "provisioning window ended without a fetch"));
  }
  switch (state) {
    case core::DeviceState::kStock: return Deny(record, "device not assigned");
    case core::DeviceState::kRetired: return Deny(record, "device retired");
    case core::DeviceState::kExpired: return Deny(record, "window expired");
    case core::DeviceState::kAssigned:
    case core::DeviceState::kProvisioned: break;
  }

  // The tenant's policy.
  if (id.strength < tenant.min_strength) {
    return Deny(record, fmt::format("below policy: {} < {}", core::IdentityStrengthName(id.strength),
                                    core::IdentityStrengthName(tenant.min_strength)));
  }
  if (!tenant.ip_ranges.empty() && !InTenantRanges(tenant, ctx.client)) {
    return Deny(record, "outside ip range");
  }
  if (!ctx.request.tls && (!tenant.allow_plain_http || (id.strength != core::IdentityStrength::kToken &&
                                                         id.strength != core::IdentityStrength::kDigest))) {
    return Deny(record, "plain http not allowed");
  }

  // Identity hygiene.
  if (ua.mac && *ua.mac != device.mac) {
    PG_TRY_STATUS(ScanEvent(ctx.client, defense::ScanEvent::kWrongMac, ua.mac->str(), record));
    return Deny(record, "user-agent mac mismatch");
  }
  // Certificate pinning: a vendor CA is not enough; the device's own key is.
  if (id.strength == core::IdentityStrength::kClientCert) {
    if (device.pin_spki.empty()) {
      if (ctx.side_effects) {
        PG_TRY(bool pinned, writes_.PinDevice(device.id, ctx.request.cert->spki_sha256));
        if (pinned) {
          LifecycleEvent(ctx, device, "certificate pinned", {{"spki_sha256", ctx.request.cert->spki_sha256}});
        }
      }
    } else if (!crypto::ConstantTimeEquals(device.pin_spki, ctx.request.cert->spki_sha256)) {
      if (ctx.side_effects) {
        PG_TRY_STATUS(Lock(ctx, device, "certificate key changed",
                           {{"pinned", device.pin_spki}, {"presented", ctx.request.cert->spki_sha256}}));
      }
      return Deny(record, "certificate key changed");
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
          PG_TRY_STATUS(Lock(ctx, device, "network changed",
                             {{"last_seen_ip", device.last_seen_ip}, {"now", ctx.client.ToString()}}));
        }
        return Deny(record, "network changed");
      }
    }
    if (device.state == core::DeviceState::kAssigned && !device.last_seen_at &&
        tenant.late_first_fetch_days > 0 && device.window_opens &&
        ctx.now - *device.window_opens > std::int64_t{tenant.late_first_fetch_days} * 86400) {
      if (ctx.side_effects) {
        PG_TRY_STATUS(Lock(ctx, device, "first seen late", {{"assigned", *device.window_opens}}));
      }
      return Deny(record, "first seen late");
    }
  }
  return std::optional<DeviceResponse>();
}

}  // namespace provgate::pipeline
