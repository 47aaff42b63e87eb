#include "pipeline/stage.hpp"

#include <spdlog/spdlog.h>

#include "core/lifecycle.hpp"

namespace provgate::pipeline {

bool InTenantRanges(const core::Tenant& tenant, const net::IpAddress& client) {
  return tenant.ip_ranges.Contains(client);
}

bool TransportAllowed(const core::Tenant& tenant, const DeviceRequest& request, core::IdentityStrength strength) {
  return request.tls || (tenant.allow_plain_http && strength == core::IdentityStrength::kDigest);
}

Result<std::shared_ptr<const core::Device>> FindNamed(store::NamedReads& from, const core::MacAddress& mac) {
  auto d = from.FindDevice(mac);
  if (d) return std::make_shared<const core::Device>(std::move(*d));
  if (d.error().code != ErrorCode::kNotFound) return d.error();
  return std::shared_ptr<const core::Device>();
}

Result<std::shared_ptr<const core::Device>> FindProven(store::ProvenReads& from, const core::MacAddress& mac) {
  auto d = from.FindProvenDevice(mac);
  if (d) return std::move(*d);
  if (d.error().code != ErrorCode::kNotFound) return d.error();
  return std::shared_ptr<const core::Device>();
}

const std::string& Spend(RequestState& state, const core::Device& device) {
  Spent& spent = state.spent;
  if (spent.device_id == 0) {
    spent.device_id = device.id;
    spent.mac = device.mac.str();
    spent.claim = store::NewClaimId();
  }
  return spent.claim;
}

void LifecycleEvent(const StageDeps& deps, RequestState& state, const core::Device& device, const std::string& what,
                    nlohmann::json detail) {
  auto r = audit::InfoRecord(deps.clock.Now(), "lifecycle", "device", what, device.mac.str(), std::move(detail));
  r.tenant_id = device.tenant_id.value_or(0);
  state.events.push_back(std::move(r));
}

Status Lock(const StageDeps& deps, RequestState& state, const core::Device& device, const std::string& why,
            nlohmann::json detail) {
  PG_TRY_STATUS(deps.writes.LockDevice(device.id, why));
  deps.defenses.counters().Increment("locks");
  detail["cause"] = why;
  LifecycleEvent(deps, state, device, "locked", std::move(detail));
  spdlog::warn("ALERT device {} locked: {} (unlock with: provgate device unlock {})", device.mac.str(), why,
               device.mac.str());
  return Ok();
}

Status RecordTransition(const StageDeps& deps, RequestState& state, const core::Device& device, core::DeviceState from,
                        core::DeviceState to, const std::string& cause) {
  PG_TRY(bool won, deps.writes.TransitionState(device.id, from, to, state.now));
  if (!won) return Ok();  // a concurrent request made (and recorded) this transition
  LifecycleEvent(deps, state, device, std::string(core::DeviceStateName(to)),
                 {{"from", core::DeviceStateName(from)}, {"cause", cause}});
  return Ok();
}

}  // namespace provgate::pipeline
