// Secrets service::Admin shows to a person: a softphone line's credentials, revealed once,
// and a phone's web admin password for an engineer, replaced after the engineer's window.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "core/lifecycle.hpp"
#include "service/admin.hpp"

namespace provgate::service {

Result<EngineerPassword> Admin::IssueEngineerPassword(const std::string& mac, std::int64_t window_seconds) {
  if (window_seconds < 1) return Error::InvalidArgument("an engineer window lasts at least one second");
  PG_TRY(auto d, FindDevice(mac));
  const vendors::Vendor* vendor = vendors_.Find(d.vendor);
  EngineerPassword out;
  if (vendor != nullptr) out.keys = vendor->WebAdminPasswordKeys();
  if (out.keys.empty()) {
    return Error::FailedPrecondition(
        fmt::format("provgate knows no sourced config key that sets the web admin password of {} phones "
                    "(docs/vendors/{}.md), so it cannot give an engineer one",
                    d.vendor, d.vendor));
  }
  const auto state = core::EffectiveState(d, ToUnix(clock_.Now()));
  if (state != core::DeviceState::kAssigned && state != core::DeviceState::kProvisioned) {
    return Error::FailedPrecondition(
        fmt::format("device {} is {} and gets no config, so the password would not reach it", d.mac.str(),
                    core::DeviceStateName(state)));
  }
  PG_TRY(auto tenant, store_.GetTenant(*d.tenant_id));
  if (pipeline::ChoosesAdminPassword(tenant.vars) || pipeline::ChoosesAdminPassword(d.vars)) {
    return Error::FailedPrecondition("a tenant or device variable sets the web admin password of device " +
                                     d.mac.str() + "; remove admin_password there first (docs/templates.md)");
  }
  PG_TRY(out.password, GenerateAdminPassword());
  out.window_ends = ToUnix(clock_.Now()) + window_seconds;
  d.admin_password = out.password;
  d.engineer_window_ends = out.window_ends;
  PG_TRY_STATUS(store_.UpdateDevice(d));
  PG_TRY_STATUS(LifecycleAudit(d, "engineer password issued", {{"window_ends", out.window_ends}}));
  return out;
}

Result<core::Line> Admin::RevealSoftphoneLine(const std::string& mac, int index) {
  PG_TRY(auto d, FindDevice(mac));
  if (!core::IsSoftphone(d)) {
    return Error::FailedPrecondition("device " + d.mac.str() + " is not a softphone (docs/portal.md)");
  }
  if (!d.tenant_id || d.state == core::DeviceState::kRetired) {
    return Error::FailedPrecondition("device " + d.mac.str() + " is in stock or retired");
  }
  PG_TRY(auto lines, store_.ListLines(d.id));
  const auto line = std::find_if(lines.begin(), lines.end(), [index](const core::Line& l) { return l.index == index; });
  if (line == lines.end()) return Error::NotFound(fmt::format("device {} has no line {}", d.mac.str(), index));
  const std::string claim = store::NewClaimId();
  PG_TRY(auto claimed, writes_.ClaimPasswords(d.id, {index}, ToUnix(clock_.Now()), claim));
  if (claimed.empty()) {
    PG_TRY_STATUS(LifecycleAudit(d, "softphone reveal refused", {{"line", index}, {"why", "revealed already"}}));
    return Error::FailedPrecondition(
        "this line's password was revealed (or delivered) already; reactivate the device for a new one");
  }
  if (auto recorded = LifecycleAudit(d, "softphone credentials revealed", {{"line", index}}); !recorded) {
    // Not shown without its record: the password stays revealable.
    if (auto given = writes_.GiveBackUndelivered(d.id, claim); !given) {
      spdlog::error("could not give back the revealed line {} of {}: {}", index, d.mac.str(), given.error().message);
    }
    return recorded.error();
  }
  if (auto released = writes_.ReleaseClaim(d.id, claim, claimed.size()); !released || !*released) {
    // Not shown: the record says so, and the password stays revealable.
    if (auto given = writes_.GiveBackUndelivered(d.id, claim); !given) {
      spdlog::error("could not give back the revealed line {} of {}: {}", index, d.mac.str(), given.error().message);
    }
    if (auto recorded = LifecycleAudit(d, "softphone reveal given back",
                                       {{"line", index}, {"why", "its claim could not be released"}});
        !recorded) {
      spdlog::error("audit write failed: {}", recorded.error().message);
    }
    if (!released) return released.error();
    return Error::Unavailable("the reveal of line " + std::to_string(index) + " of device " + d.mac.str() +
                              " was cut short; try again");
  }
  return std::move(claimed.front());
}

}  // namespace provgate::service
