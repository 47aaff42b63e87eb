#include "pipeline/pipeline.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/lifecycle.hpp"
#include "defense/redact.hpp"
#include "pipeline/admit.hpp"
#include "pipeline/authorize.hpp"
#include "pipeline/identify.hpp"
#include "pipeline/limit.hpp"
#include "pipeline/passwords.hpp"
#include "pipeline/route.hpp"
#include "pipeline/serve.hpp"

namespace provgate::pipeline {
namespace {

// The last-seen update a served device file makes: none within kSeenResolutionSeconds of the
// recorded one from the same address, User-Agent and firmware (the next files of a boot),
// and none for a HEAD.
std::optional<store::DeviceSeen> Seen(const RequestState& state, const core::Device& device,
                                      const vendors::UserAgentInfo& ua) {
  if (!state.side_effects) return std::nullopt;
  std::string ip = state.client.ToString();
  const auto& user_agent = state.request.user_agent;
  if (device.last_seen_at && state.now - *device.last_seen_at < kSeenResolutionSeconds && device.last_seen_ip == ip &&
      device.last_user_agent == user_agent && (ua.firmware.empty() || device.firmware == ua.firmware)) {
    return std::nullopt;
  }
  return store::DeviceSeen{device.id, state.now, std::move(ip), user_agent, ua.firmware};
}

}  // namespace

std::vector<audit::AuditRecord> Outcome::TakeRecords() {
  std::vector<audit::AuditRecord> records = std::move(events);
  records.push_back(std::move(record));
  return records;
}

DeviceResponse UniformNotFound() { return DeviceResponse{404, "text/plain; charset=utf-8", "404 Not Found\n", false}; }

Pipeline::Pipeline(store::ProvenReads& reads, store::NamedReads& named, store::DeviceWrites& writes,
                   const vendors::Registry& vendors, const render::TemplateSet& templates, audit::AuditLog& audit,
                   const Clock& clock, Defenses& defenses, PipelineOptions options)
    : audit_(audit),
      clock_(clock),
      defenses_(defenses),
      options_(std::move(options)),
      render_cache_(options_.render_cache_files),
      deps_{reads, named, writes, vendors, templates, clock, defenses, options_, render_cache_},
      give_backs_(writes, audit, clock) {}

Outcome Pipeline::Evaluate(const DeviceRequest& request) {
  Outcome outcome;
  Evaluate(request, outcome);
  return outcome;
}

void Pipeline::Evaluate(const DeviceRequest& request, Outcome& outcome) {
  // The previous response's body memory is this one's; everything else starts over.
  outcome.memory.body = std::move(outcome.response.body);
  outcome.memory.body.clear();
  outcome.response = DeviceResponse{};
  outcome.events.clear();
  outcome.seen.reset();
  outcome.spent.device_id = 0;
  outcome.spent.mac.clear();
  outcome.spent.claim.clear();
  outcome.spent.lines.clear();
  outcome.spent.config_key = false;
  outcome.failed = false;
  outcome.vendor = {};
  outcome.refusal.reset();
  audit::AuditRecord& record = outcome.record;
  record.Clear();
  record.time = request.received;
  record.listener = request.listener;
  record.peer = request.peer.ToEndpointString(request.peer_port);
  record.method = request.method;
  // What the client wrote is kept only up to a bound (with a marker saying how much was cut):
  // a flood of refusals cannot fill the audit volume with attacker text.
  defense::RedactTarget(request.target, record.file);  // URL tokens never reach a log
  audit::TruncateClientText(record.file);
  audit::AssignClientText(record.user_agent, request.user_agent);
  record.identity_source = "none";
  audit::AssignClientText(record.cert_subject, request.cert ? request.cert->subject : request.cert_subject);
  if (request.cert) record.mac = request.cert->mac.str();

  // The client address: the TCP peer, or what a configured trusted proxy says it forwarded.
  const auto resolved = net::ResolveClientAddress(request.peer, defenses_.options().trusted_proxies, request.forwarded,
                                                  request.x_forwarded_for);
  const net::IpAddress& client = resolved.address;
  if (resolved.source == net::ClientAddressSource::kForwardingHeader) {
    record.detail["client"] = client.ToString();
  }
  RequestState state{request, client,         ToUnix(clock_.Now()), request.method != "HEAD",
                     record,  outcome.events, outcome.spent,        outcome.memory};

  Result<Step<DeviceResponse>> decided = Step<DeviceResponse>(Refused{Refusal::kMalformedForwarding});
  auto permit = defenses_.gate().TryEnter();
  if (resolved.source == net::ClientAddressSource::kMalformedHop) {
    // Taking the proxy for the client would let the client borrow the proxy's address. Such
    // requests spend the proxy's refusal budget (a request that names its client is charged
    // to the client).
    record.detail["forwarding"] = resolved.note;
    decided = Step<DeviceResponse>(ChargeRefusal(defenses_, request.peer, Refused{Refusal::kMalformedForwarding}));
  } else if (!permit.admitted()) {
    defenses_.counters().Increment(defense::counter_names::kShed);
    decided = Step<DeviceResponse>(Refused{Refusal::kLoadShed, {}, Answer::kUnavailable, permit.retry_after_seconds()});
  } else {
    decided = Decide(state, outcome);
    // What the stages saw is acted on however the request ended.
    if (const Status scanned = ActOnScanSignals(state); decided && !scanned) decided = scanned.error();
  }

  DeviceResponse response;
  bool durable = state.durable;
  if (!decided) {
    durable = true;  // a stage may have changed state before another failed
    outcome.failed = true;
    spdlog::error("request pipeline failed: {}", decided.error().message);
    internal_errors_.fetch_add(1, std::memory_order_relaxed);
    record.decision = "error";
    record.reason = "internal error: " + decided.error().message;
    response = DeviceResponse{500, "text/plain; charset=utf-8", "500 Internal Server Error\n"};
  } else if (auto* refused = std::get_if<Refused>(&*decided)) {
    outcome.refusal = refused->why;
    response = Refuse(record, *refused, request.tls ? defense::Channel::kTls : defense::Channel::kPlain);
  } else {
    response = std::move(std::get<DeviceResponse>(*decided));
  }
  if (response.status != 200) outcome.seen.reset();  // only an answered fetch counts as seen
  // Every uniform 404 waits: some change state (window ended, identity misused, a lock) and
  // must be durable first, and a refusal must not be told apart by its latency (invariant 2).
  outcome.durability = durable || !outcome.events.empty() || response.status == 404 || audit_.holds_every_response()
                           ? audit::Durability::kDurable
                           : audit::Durability::kWindowed;
  record.status = response.status;
  record.bytes = response.body.size();
  record.duration_ms = std::chrono::duration<double, std::milli>(clock_.Now() - request.received).count();
  outcome.response = std::move(response);
}

DeviceResponse Pipeline::Refuse(audit::AuditRecord& record, const Refused& refused, defense::Channel channel) {
  record.decision = "deny";
  record.reason = refused.AuditReason();
  defenses_.counters().Increment(std::string(defense::counter_names::kRefusalPrefix) +
                                 std::string(RefusalName(refused.why)));
  switch (refused.answer) {
    case Answer::kNotFound: return UniformNotFound();
    case Answer::kChallenge:
    case Answer::kStaleChallenge: {
      DeviceResponse r{401, "text/plain; charset=utf-8", "401 Unauthorized\n"};
      // The same challenge whoever asked: it depends only on realm, algorithms and the
      // connection's channel, to which its nonce is bound.
      r.www_authenticate =
          defense::Challenge(defenses_.nonces(), defenses_.options().realm, channel,
                             defenses_.options().digest_algorithms, refused.answer == Answer::kStaleChallenge);
      return r;
    }
    case Answer::kMethodNotAllowed:
      return DeviceResponse{405, "text/plain; charset=utf-8", "405 Method Not Allowed\n", true};
    case Answer::kTooManyRequests: {
      DeviceResponse r{429, "text/plain; charset=utf-8", "429 Too Many Requests\n"};
      r.retry_after = refused.retry_after;
      return r;
    }
    case Answer::kUnavailable: {
      DeviceResponse r{503, "text/plain; charset=utf-8", "503 Service Unavailable\n"};
      r.retry_after = refused.retry_after;
      return r;
    }
  }
  return UniformNotFound();
}

const DeviceResponse& Pipeline::Respond(Outcome& outcome, const Status& committed) {
  // Never acknowledge a decision the audit trail could lose.
  if (!committed) {
    spdlog::error("audit write failed, refusing request: {}", committed.error().message);
    outcome.response = DeviceResponse{503, "text/plain; charset=utf-8", "503 Service Unavailable\n"};
    GiveBack(outcome.spent, "the response was not sent: its audit record could not be committed");
    return outcome.response;
  }
  if (outcome.failed) {
    GiveBack(outcome.spent, "the response was not sent: the request failed");
    return outcome.response;
  }
  // Passwords leave only under a released claim: until then no other request confirms
  // them, and another node's abandoned-claim give-back (LinesWithDeliverablePasswords) and
  // this release exclude each other.
  if (outcome.spent.device_id != 0 && !outcome.spent.lines.empty()) {
    const auto released =
        deps_.writes.ReleaseClaim(outcome.spent.device_id, outcome.spent.claim, outcome.spent.lines.size());
    if (!released || !*released) {
      const std::string cause = released ? "the response was not sent: its claim is gone (given back as abandoned, "
                                           "or a line given a new password or the device re-activated meanwhile)"
                                         : "the response was not sent: its claim could not be released";
      spdlog::error("{} ({}){}", cause, outcome.spent.mac, released ? "" : ": " + released.error().message);
      DeviceResponse unavailable{503, "text/plain; charset=utf-8", "503 Service Unavailable\n"};
      unavailable.retry_after = kClaimInFlightRetryAfter;
      outcome.response = std::move(unavailable);
      GiveBack(outcome.spent, cause);
    }
  }
  return outcome.response;
}

void Pipeline::GiveBack(Spent& spent, const std::string& cause) {
  // The trail may already hold the decision's records (written, then the sync failed): the
  // give-back's record says the delivery they name did not happen.
  give_backs_.GiveBack(spent, cause);
  spent.device_id = 0;
}

DeviceResponse Pipeline::Handle(const DeviceRequest& request) {
  Outcome outcome = Evaluate(request);
  std::optional<store::DeviceSeen> seen = std::move(outcome.seen);
  const Status committed = audit_.WriteBatch(outcome.TakeRecords(), outcome.durability, std::move(seen));
  Respond(outcome, committed);
  return std::move(outcome.response);
}

Status Pipeline::ScanEvent(const net::IpAddress& client, defense::ScanEvent event, std::string_view mac,
                           std::string_view listener, std::string_view peer) {
  const auto now = clock_.Now();
  // A banned source's failures count toward nothing: they would otherwise ban its whole
  // /24 (/64) on their own and raise its ban while it is in force.
  if (defenses_.bans().IsBanned(client, now)) return Ok();
  // Every signal is acted on even when an earlier one failed: the detector has already reset
  // their counts, and a ban the store refused still holds on this node (BanList caches first).
  Status first_failure = Ok();
  for (const auto& signal : defenses_.scan().Record(client, event, mac, now)) {
    defenses_.counters().Increment(defense::counter_names::kScanSignals);
    Status banned = BanForScan(signal, now, listener, peer);
    if (!banned && first_failure) first_failure = std::move(banned);
  }
  return first_failure;
}

Status Pipeline::BanForScan(const defense::ScanSignal& signal, TimePoint now, std::string_view listener,
                            std::string_view peer) {
  PG_TRY(auto ban, defenses_.bans().BanSource(signal.source, "scan: " + signal.reason, now));
  if (!ban) return Ok();  // allowlisted, or already banned
  defenses_.counters().Increment(defense::counter_names::kBans);
  auto r = audit::InfoRecord(
      now, "ban", "scan-detector", "source banned", "",
      {{"source", ban->source}, {"why", ban->reason}, {"expires", ban->expires}, {"offences", ban->offence_count}});
  r.listener = listener;
  r.peer = peer;
  PG_TRY_STATUS(audit_.Write(r, audit::Durability::kDurable));
  spdlog::warn("banned {} until {}: {}", ban->source, FormatRfc3339(FromUnix(ban->expires)), ban->reason);
  return Ok();
}

Status Pipeline::ActOnScanSignals(RequestState& state) {
  // Taken out first: a signal is acted on once, however acting on it ends.
  const auto signals = std::exchange(state.scan, {});
  Status first_failure = Ok();
  for (const auto& signal : signals) {
    Status acted = ScanEvent(state.client, signal.event, signal.mac, state.record.listener, state.record.peer);
    if (!acted && first_failure) first_failure = std::move(acted);
  }
  return first_failure;
}

void Pipeline::RecordHandshakeFailure(const net::IpAddress& client, std::string_view listener, std::string_view peer) {
  if (auto st = ScanEvent(client, defense::ScanEvent::kFailedAuth, "", listener, peer); !st) {
    spdlog::error("scan detector: {}", st.error().message);
  }
}

// The request path, top to bottom: admit (request line, banned source),
// identify, route (the name in the device's own vendor's terms; another device's name is a
// scan signal and an incident), limit, authorize, then the answer: upload, key file or
// rendered file.
Result<Step<DeviceResponse>> Pipeline::Decide(RequestState& state, Outcome& outcome) {
  const DeviceRequest& request = state.request;
  const net::IpAddress& client = state.client;
  audit::AuditRecord& record = state.record;
  // Before the first store read: a file rendered from what this request reads is valid at
  // this generation at the latest (RenderCache).
  const std::uint64_t generation = deps_.proven.DataGeneration();
  // Refusals decided from the request line and the source alone cost a token of the
  // source's refusal budget.
  auto refuse_early = [&](Refused refused) { return ChargeRefusal(defenses_, client, std::move(refused)); };

  auto admit = Admit(request, options_.path_prefix);
  if (auto* refused = std::get_if<Refused>(&admit)) return refuse_early(std::move(*refused));
  const Admitted& admitted = std::get<Admitted>(admit);
  // A banned source is still heard when it proves a device by certificate or URL token: one
  // scanner behind a customer's NAT must not cut off that customer's phones.
  const bool banned = defenses_.bans().IsBanned(client, FromUnix(state.now));
  const bool strong_credential =
      (request.cert && request.methods.client_cert) || (admitted.token && request.methods.token);
  // A banned source is answered, and rate limited, as the same request would be if its
  // credential were absent or wrong: whether a source is banned (and so which MAC raised the
  // ban) is not told, by the answer or by when its 429s begin.
  auto refuse_banned = [&](Answer answer) -> Step<DeviceResponse> {
    if (auto limited = RateLimit(defenses_, state, nullptr)) return std::move(*limited);
    return Refused{Refusal::kBannedSource, {}, answer};
  };
  if (banned && !strong_credential) return refuse_banned(NoCredentialAnswer(request));

  PG_TRY(auto identified, Identify(deps_, state, admitted));
  auto* id = std::get_if<Identity>(&identified);
  if (banned && id == nullptr) return refuse_banned(std::get<Refused>(identified).answer);

  const vendors::Vendor* vendor = id ? deps_.vendors.Find(id->device->vendor) : nullptr;
  Target target;
  if (vendor != nullptr) {
    target = Route(deps_.vendors, *vendor, admitted.file_name(), admitted.method == Method::kPut);
    if (target.mac) record.url_mac = target.mac->str();
    outcome.vendor = vendor->name();
  }
  // A name that carries another MAC than the proven one is counted by the scan detector
  // however the request ends (rate limited or not); the incident is handled within the
  // device's rate limit, after the detector's ban is written: a ban the store refuses ends
  // the request before it locks anything.
  if (id != nullptr && target.mac && *target.mac != id->device->mac) {
    record.device = id->device->mac.str();
    record.tenant_id = id->device->tenant_id.value_or(0);
    state.Scan(defense::ScanEvent::kWrongMac, target.mac->str());
    if (auto limited = RateLimit(defenses_, state, id)) return std::move(*limited);
    PG_TRY_STATUS(ActOnScanSignals(state));
    PG_TRY_STATUS(MisusedIdentity(state, *id, *target.mac));
    return Refused{Refusal::kMacMismatch};
  }
  if (banned && id != nullptr && RecentlyMisused(id->device->mac, state.now)) {
    return refuse_early(Refused{Refusal::kBannedSource});
  }
  if (auto limited = RateLimit(defenses_, state, id)) return std::move(*limited);
  if (id == nullptr) return std::move(std::get<Refused>(identified));

  if (banned) record.detail["ban_exempt"] = "authenticated device asking for its own files";
  // With the newest last-seen, which the store may not have yet (only then a copy).
  id->device = audit_.uncopied_seen().Apply(std::move(id->device));
  const core::Device& device = *id->device;
  record.device = device.mac.str();
  record.tenant_id = device.tenant_id.value_or(0);
  if (id->strength != core::IdentityStrength::kClientCert) record.mac = device.mac.str();
  if (vendor == nullptr) return Refused{Refusal::kUnknownVendor, device.vendor};
  if (!device.locked_reason.empty()) return Refused{Refusal::kDeviceLocked, device.locked_reason};
  if (!device.tenant_id) return Refused{Refusal::kDeviceNotAssigned};
  PG_TRY(auto tenant, deps_.proven.GetTenantShared(*device.tenant_id));
  const auto ua = vendor->ParseUserAgent(request.user_agent);
  PG_TRY(auto refused, Authorize(deps_, state, *id, *tenant, ua));
  if (refused) return std::move(*refused);
  if (options_.withheld) {
    if (auto why = options_.withheld->Reason(device.mac, generation)) {
      defenses_.counters().Increment(defense::counter_names::kLintWithheld);
      return Refused{Refusal::kWithheldByLint, *why};
    }
  }

  if (admitted.method == Method::kPut) {
    if (!target.upload) return Refused{Refusal::kUploadNotAllowed};
    return Upload(deps_, state, device, *target.upload, admitted.file_name());
  }
  if (target.key_file) return KeyFile(state, device, *target.key_file);
  if (!target.file) return Refused{Refusal::kUnknownFile};
  const bool device_file = target.file->scope == vendors::FileScope::kDevice;
  // A claim of this device cut off earlier, whose give-back still waits for the store, is
  // settled before the device's own file may spend anything (GiveBacks::Settle), and the
  // device read again when that changed it. Only now: a refusal must not depend on it.
  std::shared_ptr<const core::Device> serving = id->device;
  if (device_file && state.side_effects && give_backs_.Waiting(device.id)) {
    PG_TRY(const bool settled, give_backs_.Settle(device.id));
    if (settled) {
      PG_TRY(auto fresh, FindProven(deps_.proven, device.mac));
      if (fresh) serving = audit_.uncopied_seen().Apply(std::move(fresh));
    }
  }
  PG_TRY(auto served,
         ServeFile(deps_, state, *vendor, *target.file, *serving, *tenant, admitted.file_name(), generation));
  if (std::holds_alternative<DeviceResponse>(served) && device_file) outcome.seen = Seen(state, *serving, ua);
  return served;
}

Status Pipeline::MisusedIdentity(RequestState& state, const Identity& id, const core::MacAddress& named) {
  if (state.record.identity_source == "ip") return Ok();  // the URL's MAC is the identity
  const core::Device& device = *id.device;
  defenses_.counters().Increment(defense::counter_names::kIdentityMisuse);
  {
    // One incident record (and alert) per device per scan window; the scan detector and
    // the counter see every request.
    std::lock_guard lock(misuse_mu_);
    if (misused_.size() >= kMaxMisusedRemembered) misused_.clear();
    auto [it, first] = misused_.try_emplace(device.mac.str(), state.now);
    if (!first && state.now - it->second < defenses_.options().scan.window.count()) return Ok();
    it->second = state.now;
  }
  nlohmann::json detail = {
      {"asked_for", named.str()}, {"client", state.client.ToString()}, {"identity", state.record.identity_source}};
  LifecycleEvent(deps_, state, device, "identity misused", detail);
  spdlog::warn(
      "ALERT device {}'s {} asked for device {}'s file from {}: its key may be in "
      "someone else's hands",
      device.mac.str(), state.record.identity_source, named.str(), state.client.ToString());
  // A lock changes state: only for a request that could otherwise have been served (the
  // device entitled now, the tenant's policy met, not a HEAD), so a stolen credential the
  // tenant's ranges or policy already make useless cannot lock the real phone.
  if (!device.tenant_id || !state.side_effects || !device.locked_reason.empty()) return Ok();
  PG_TRY(auto tenant, deps_.proven.GetTenantShared(*device.tenant_id));
  const auto lifecycle = core::EffectiveState(device, state.now);
  const bool entitled = (lifecycle == core::DeviceState::kAssigned || lifecycle == core::DeviceState::kProvisioned) &&
                        id.strength >= tenant->min_strength &&
                        (tenant->ip_ranges.empty() || InTenantRanges(*tenant, state.client)) &&
                        TransportAllowed(*tenant, state.request, id.strength);
  if (tenant->lock_on_misuse && entitled) {
    PG_TRY_STATUS(Lock(deps_, state, device, "identity misused", std::move(detail)));
  }
  return Ok();
}

bool Pipeline::RecentlyMisused(const core::MacAddress& mac, std::int64_t now) {
  std::lock_guard lock(misuse_mu_);
  const auto it = misused_.find(mac.str());
  return it != misused_.end() && now - it->second < defenses_.options().scan.window.count();
}

}  // namespace provgate::pipeline
