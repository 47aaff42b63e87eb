#include "pipeline/passwords.hpp"

#include "core/lifecycle.hpp"
#include "crypto/random.hpp"
#include "pipeline/render_file.hpp"

namespace provgate::pipeline {

Result<std::vector<core::Line>> LinesWithoutPasswords(const StageDeps& deps, const core::Device& device,
                                                      bool& stored_password) {
  PG_TRY(auto lines, deps.proven.ListLines(device.id));
  stored_password = core::AnyPassword(lines);
  for (auto& l : lines) l.password.reset();
  return lines;
}

namespace {

// The indexes of the lines with an undelivered password whose password the file would
// carry: it is rendered once with a random marker in place of each.
std::vector<int> CarriedPasswordLines(const StageDeps& deps, const core::Device& device, const core::Tenant& tenant,
                                      const render::Template& tpl, const vendors::FileRoute& route,
                                      std::string_view file_name, const std::vector<core::Line>& lines) {
  std::vector<core::Line> probe = lines;
  std::vector<std::pair<int, std::string>> markers;
  for (auto& l : probe) {
    if (l.password && !l.delivered_at) {
      const auto random = crypto::RandomBytes(12);
      // Letters and digits only: no escaping of any format changes it.
      std::string marker = "pgmark" + crypto::HexEncode(random.data(), random.size());
      l.password = marker;
      markers.emplace_back(l.index, std::move(marker));
    } else {
      l.password.reset();
    }
  }
  const std::string body =
      RenderFile(deps.templates, tpl, route, device, tenant, probe, file_name, deps.options.provisioning_url, 0);
  std::vector<int> carried;
  for (const auto& [index, marker] : markers) {
    if (body.find(marker) != std::string::npos) carried.push_back(index);
  }
  return carried;
}

}  // namespace

Result<std::vector<core::Line>> LinesWithDeliverablePasswords(const StageDeps& deps, RequestState& ctx,
                                                              const core::Device& device, const core::Tenant& tenant,
                                                              const render::Template& tpl,
                                                              const vendors::FileRoute& route,
                                                              std::string_view file_name, bool& stored_password) {
  PG_TRY(auto lines, deps.proven.ListLines(device.id));
  stored_password = core::AnyPassword(lines);
  if (!ctx.side_effects) {
    // HEAD: what GET would send, without spending or confirming anything.
    if (tenant.password_policy != core::PasswordPolicy::kAlways) {
      for (auto& l : lines) l.password.reset();
    }
    return lines;
  }
  if (tenant.password_policy == core::PasswordPolicy::kAlways) return lines;

  // The write statements below run only when this snapshot shows they have work: a device
  // fetching again after its passwords were delivered and wiped costs one read. Skipping on
  // a stale snapshot is safe: the claim itself stays atomic, and a password that arrives
  // after the read is simply delivered on the next fetch.
  const std::int64_t cutoff = core::ConfirmedDeliveryCutoff(tenant, ctx.now);
  bool to_wipe = false;
  bool to_claim = false;
  for (const auto& l : lines) {
    if (!l.password) continue;
    to_wipe = to_wipe || (l.delivered_at && *l.delivered_at <= cutoff);
    to_claim = to_claim || !l.delivered_at;
  }
  // Confirmation first: a password delivered earlier is wiped once this request proves the
  // device has it (its next fetch, or the grace period after delivery).
  std::vector<int> wiped;
  if (to_wipe) {
    PG_TRY(wiped, deps.writes.WipeDeliveredPasswords(device.id, cutoff));
  }
  if (!wiped.empty()) {
    LifecycleEvent(deps, ctx, device, "password removed",
                   {{"lines", wiped},
                    {"cause", tenant.confirm_grace_seconds == 0 ? "confirmed by the device's next fetch"
                                                                : "grace period after delivery ended"}});
  }
  // Then the atomic claim of the passwords this file carries: of concurrent requests,
  // exactly one gets each; a file that leaves a password out does not spend it.
  std::vector<core::Line> claimed;
  if (to_claim) {
    const auto carried = CarriedPasswordLines(deps, device, tenant, tpl, route, file_name, lines);
    if (!carried.empty()) {
      PG_TRY(claimed, deps.writes.ClaimPasswords(device.id, carried, ctx.now, Spend(ctx, device)));
    }
  }
  if (!claimed.empty()) {
    std::vector<int> indexes;
    indexes.reserve(claimed.size());
    for (const auto& l : claimed) indexes.push_back(l.index);
    ctx.spent.lines = indexes;
    LifecycleEvent(deps, ctx, device, "password delivered",
                   {{"lines", indexes},
                    {"file", std::string(file_name)},
                    {"policy", core::PasswordPolicyName(tenant.password_policy)},
                    {"claim", ctx.spent.claim}});
  }
  if (!wiped.empty() || !claimed.empty()) {
    PG_TRY(lines, deps.proven.ListLines(device.id));
  }
  if (tenant.password_policy == core::PasswordPolicy::kDeliverOnce) {
    for (auto& l : lines) {
      l.password.reset();
      for (const auto& c : claimed) {
        if (c.index == l.index) l.password = c.password;
      }
    }
  }
  return lines;
}

}  // namespace provgate::pipeline
