#include "pipeline/passwords.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "core/lifecycle.hpp"
#include "crypto/random.hpp"
#include "pipeline/render_file.hpp"
#include "store/device_writes.hpp"

namespace provgate::pipeline {

Result<std::vector<core::Line>> LinesWithoutPasswords(const StageDeps& deps, const core::Device& device,
                                                      bool& stored_password) {
  PG_TRY(auto lines, deps.proven.ListLines(device.id));
  stored_password = core::AnyPassword(lines);
  for (auto& l : lines) l.password.reset();
  return lines;
}

namespace {

// Of `candidates` (indexes of lines with a stored password), those whose password the file
// would carry: it is rendered once with a random marker in place of each.
std::vector<int> CarriedPasswordLines(const StageDeps& deps, const core::Device& device, const core::Tenant& tenant,
                                      const render::Template& tpl, const vendors::FileRoute& route,
                                      std::string_view file_name, const std::vector<core::Line>& lines,
                                      const std::vector<int>& candidates) {
  std::vector<core::Line> probe = lines;
  std::vector<std::pair<int, std::string>> markers;
  for (auto& l : probe) {
    if (l.password && std::find(candidates.begin(), candidates.end(), l.index) != candidates.end()) {
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

bool Contains(const std::vector<int>& v, int x) { return std::find(v.begin(), v.end(), x) != v.end(); }

// The claims in flight the lines show: those of another process (another node, or this node
// before a restart) younger than kAbandonedClaimAfter, whose response may still be unsent,
// by line index; and the claim ids of the older ones of any process, which their node will
// never release (its request would have ended long before).
struct ClaimsInFlight {
  std::vector<int> elsewhere;
  std::vector<std::string> abandoned;
};

ClaimsInFlight ClaimsInFlightOf(const std::vector<core::Line>& lines, std::int64_t now) {
  ClaimsInFlight out;
  for (const auto& l : lines) {
    if (!l.password || !l.delivered_at || !l.claim_in_flight) continue;
    if (now - *l.delivered_at >= kAbandonedClaimAfter.count()) {
      if (std::find(out.abandoned.begin(), out.abandoned.end(), l.claim) == out.abandoned.end()) {
        out.abandoned.push_back(l.claim);
      }
    } else if (!store::IsOwnClaim(l.claim)) {
      out.elsewhere.push_back(l.index);
    }
  }
  return out;
}

// Gives back the abandoned claims (their lines, and the key's plain-copy mark of the same
// response), each audited; true when one gave something back.
Result<bool> GiveBackAbandoned(const StageDeps& deps, RequestState& ctx, const core::Device& device,
                               const std::vector<std::string>& claims) {
  bool any = false;
  for (const auto& claim : claims) {
    PG_TRY(auto given,
           deps.writes.GiveBackAbandonedClaim(device.id, claim, ctx.now - kAbandonedClaimAfter.count() + 1));
    if (given.empty()) continue;
    any = true;
    LifecycleEvent(deps, ctx, device, "delivery given back",
                   {{"lines", given.lines},
                    {"config_key", given.config_key},
                    {"claim", claim},
                    {"cause", fmt::format("the claim's node never released it (stopped, or cut off from the "
                                          "database) within {} s, so its response never left",
                                          kAbandonedClaimAfter.count())}});
  }
  return any;
}

// The answer that asks the device to come back once a claim in flight is settled.
Refused ComeBack(RequestState& ctx, std::string why) {
  ctx.durable = true;  // a device file's answer: its record waits like the file's would
  return Refused{Refusal::kClaimInFlight, std::move(why), Answer::kUnavailable, kClaimInFlightRetryAfter};
}

}  // namespace

Result<Step<std::vector<core::Line>>> LinesWithDeliverablePasswords(
    const StageDeps& deps, RequestState& ctx, const core::Device& device, const core::Tenant& tenant,
    const render::Template& tpl, const vendors::FileRoute& route, std::string_view file_name, bool& stored_password) {
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

  // A claim its node never released nor gave back is given back first: its response never
  // left. The device comes back for the password (and, when the same response marked it, the
  // key's plain copy): this request read the device before the give-back.
  const auto in_flight = ClaimsInFlightOf(lines, ctx.now);
  if (!in_flight.abandoned.empty()) {
    PG_TRY(const bool given, GiveBackAbandoned(deps, ctx, device, in_flight.abandoned));
    if (given) return ComeBack(ctx, "an abandoned claim of this device was given back");
  }

  // The write statements below run only when this snapshot shows they have work: a device
  // fetching again after its passwords were delivered and wiped costs one read. Skipping on
  // a stale snapshot is safe: the claim itself stays atomic, and a password that arrives
  // after the read is simply delivered on the next fetch.
  const std::int64_t cutoff = core::ConfirmedDeliveryCutoff(tenant, ctx.now);
  bool to_wipe = false;
  std::vector<int> candidates = in_flight.elsewhere;
  for (const auto& l : lines) {
    if (!l.password) continue;
    // A claim in flight is never confirmed (WipeDeliveredPasswords leaves it too): its
    // response may not have left.
    to_wipe = to_wipe || (l.delivered_at && *l.delivered_at <= cutoff && !l.claim_in_flight);
    if (!l.delivered_at) candidates.push_back(l.index);
  }
  const auto carried = candidates.empty()
                           ? std::vector<int>{}
                           : CarriedPasswordLines(deps, device, tenant, tpl, route, file_name, lines, candidates);
  // The device's retry of a response another node may still be sending, or is about to give
  // back: served without that password it would count as provisioned without it, so it is
  // asked to come back once that claim is settled.
  for (int index : in_flight.elsewhere) {
    if (Contains(carried, index)) {
      return ComeBack(ctx, fmt::format("line {}'s password is claimed by another node", index));
    }
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
  // (None of `carried` is in flight elsewhere: that returned above.)
  std::vector<core::Line> claimed;
  if (!carried.empty()) {
    PG_TRY(claimed, deps.writes.ClaimPasswords(device.id, carried, ctx.now, Spend(ctx, device)));
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
