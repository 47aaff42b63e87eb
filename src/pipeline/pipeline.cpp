#include "pipeline/pipeline.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <fstream>

#include "base/decimal.hpp"
#include "core/lifecycle.hpp"
#include "crypto/random.hpp"
#include "defense/redact.hpp"
#include "encrypt/encrypt.hpp"
#include "pipeline/render_file.hpp"
#include "pipeline/stage_common.hpp"

namespace provgate::pipeline {
namespace {

// Strings a request builds on its way through Decide, in memory the serving thread keeps:
// a keep-alive request allocates nothing for them.
struct Scratch {
  std::string file_name;
  std::string rate_key;
};
thread_local Scratch scratch;

}  // namespace

std::vector<audit::AuditRecord> Outcome::TakeRecords() {
  std::vector<audit::AuditRecord> records = std::move(events);
  records.push_back(std::move(record));
  return records;
}

DeviceResponse Deny(audit::AuditRecord& record, std::string reason) {
  record.decision = "deny";
  record.reason = std::move(reason);
  return UniformNotFound();
}

bool InTenantRanges(const core::Tenant& tenant, const net::IpAddress& client) {
  return tenant.ip_ranges.Contains(client);
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

DeviceResponse UniformNotFound() {
  return DeviceResponse{404, "text/plain; charset=utf-8", "404 Not Found\n", false};
}


Pipeline::Pipeline(store::ProvenReads& reads, store::NamedReads& named, store::DeviceWrites& writes,
                   const vendors::Registry& vendors, const render::TemplateSet& templates,
                   audit::AuditLog& audit, const Clock& clock, Defenses& defenses, PipelineOptions options)
    : reads_(reads),
      named_(named),
      writes_(writes),
      vendors_(vendors),
      templates_(templates),
      audit_(audit),
      clock_(clock),
      defenses_(defenses),
      options_(std::move(options)),
      render_cache_(options_.render_cache_files) {}

Outcome Pipeline::Evaluate(const DeviceRequest& request) {
  Outcome outcome;
  Evaluate(request, outcome);
  return outcome;
}

void Pipeline::Evaluate(const DeviceRequest& request, Outcome& outcome) {
  // The previous response's body memory is this one's; everything else starts over.
  std::string body_memory = std::move(outcome.response.body);
  body_memory.clear();
  outcome.response = DeviceResponse{};
  outcome.events.clear();
  outcome.seen.reset();
  outcome.spent.device_id = 0;
  outcome.spent.mac.clear();
  outcome.spent.lines.clear();
  outcome.spent.config_key = false;
  outcome.vendor = {};
  audit::AuditRecord& record = outcome.record;
  record.Clear();
  record.time = request.received;
  record.listener = request.listener;
  record.peer.assign(request.peer_ip).append(":").append(Decimal(request.peer_port).view());
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
  net::IpAddress client = net::IpAddress::V4({0, 0, 0, 0});
  bool unattributable = false;
  if (auto peer = net::IpAddress::Parse(request.peer_ip)) {
    const auto resolved = net::ResolveClientAddress(*peer, defenses_.options().trusted_proxies,
                                                    request.forwarded, request.x_forwarded_for);
    client = resolved.address;
    if (resolved.source == net::ClientAddressSource::kForwardingHeader) {
      record.detail["client"] = client.ToString();
    }
    if (resolved.source == net::ClientAddressSource::kMalformedHop) {
      record.detail["forwarding"] = resolved.note;
      unattributable = true;
    }
  }

  DeviceResponse response;
  bool durable = false;
  auto permit = defenses_.gate().TryEnter();
  if (unattributable) {
    // Taking the proxy for the client would let the client borrow the proxy's address.
    response = Deny(record, "malformed forwarding header");
  } else if (!permit.admitted()) {
    defenses_.counters().Increment(defense::counter_names::kShed);
    record.decision = "deny";
    record.reason = "load shed";
    response = DeviceResponse{503, "text/plain; charset=utf-8", "503 Service Unavailable\n"};
    response.retry_after = permit.retry_after_seconds();
  } else {
    auto decided = Decide(request, client, outcome, body_memory, durable);
    if (decided) {
      response = std::move(*decided);
    } else {
      durable = true;  // a stage may have changed state before another failed
      GiveBack(outcome.spent);
      spdlog::error("request pipeline failed: {}", decided.error().message);
      internal_errors_.fetch_add(1, std::memory_order_relaxed);
      record.decision = "error";
      record.reason = "internal error: " + decided.error().message;
      response = DeviceResponse{500, "text/plain; charset=utf-8", "500 Internal Server Error\n"};
    }
  }
  if (record.decision == "deny") {
    defenses_.counters().Increment(std::string(defense::counter_names::kRefusalPrefix) +
                                   record.reason.substr(0, record.reason.find(':')));
  }
  if (response.status != 200) outcome.seen.reset();  // only an answered fetch counts as seen
  // Every uniform 404 waits: some change state (window ended, identity misused, a lock) and
  // must be durable first, and a refusal must not be told apart by its latency (invariant 2).
  outcome.durability = durable || !outcome.events.empty() || response.status == 404 || audit_.holds_every_response()
                           ? audit::Durability::kDurable
                           : audit::Durability::kWindowed;
  record.status = response.status;
  record.bytes = response.body.size();
  record.duration_ms =
      std::chrono::duration<double, std::milli>(clock_.Now() - request.received).count();
  outcome.response = std::move(response);
}

const DeviceResponse& Pipeline::Respond(Outcome& outcome, const Status& committed) {
  // Never acknowledge a decision the audit trail could lose.
  if (!committed) {
    spdlog::error("audit write failed, refusing request: {}", committed.error().message);
    outcome.response = DeviceResponse{503, "text/plain; charset=utf-8", "503 Service Unavailable\n"};
    GiveBack(outcome.spent);
  }
  return outcome.response;
}

void Pipeline::GiveBack(Outcome::Spent& spent) {
  if (spent.device_id == 0) return;
  const Status given = writes_.GiveBackUndelivered(spent.device_id, spent.lines, spent.at, spent.config_key);
  if (!given) {
    spdlog::error("could not give back the passwords or key of a response that never left: {}",
                  given.error().message);
  }
  // The trail may already hold the decision's records (written, then the sync failed): this
  // one says the delivery they name did not happen.
  auto r = audit::InfoRecord(clock_.Now(), "lifecycle", "server", given ? "delivery given back" : "delivery not given back",
                             spent.mac,
                             {{"lines", spent.lines}, {"config_key", spent.config_key},
                              {"cause", "the response was not sent: its audit record could not be committed"}});
  if (auto st = audit_.Record(std::move(r)); !st) spdlog::error("audit write failed: {}", st.error().message);
  spent.device_id = 0;
}

DeviceResponse Pipeline::Handle(const DeviceRequest& request) {
  Outcome outcome = Evaluate(request);
  std::optional<store::DeviceSeen> seen = std::move(outcome.seen);
  const Status committed = audit_.WriteBatch(outcome.TakeRecords(), outcome.durability, std::move(seen));
  Respond(outcome, committed);
  return std::move(outcome.response);
}

DeviceResponse Pipeline::Challenge(audit::AuditRecord& record, std::string_view reason, bool stale) {
  record.decision = "deny";
  record.reason = reason;
  DeviceResponse r{401, "text/plain; charset=utf-8", "401 Unauthorized\n"};
  // The same challenge whoever asked: it depends only on realm and algorithms.
  r.www_authenticate = defense::Challenge(defenses_.nonces(), defenses_.options().realm,
                                          defenses_.options().digest_algorithms, stale);
  return r;
}

Status Pipeline::ScanEvent(const net::IpAddress& client, defense::ScanEvent event,
                           std::string_view mac, audit::AuditRecord& record) {
  const auto now = clock_.Now();
  for (const auto& signal : defenses_.scan().Record(client, event, mac, now)) {
    defenses_.counters().Increment(defense::counter_names::kScanSignals);
    PG_TRY(auto ban, defenses_.bans().BanSource(signal.source, "scan: " + signal.reason, now));
    if (!ban) continue;  // allowlisted, or already banned
    defenses_.counters().Increment(defense::counter_names::kBans);
    auto r = audit::InfoRecord(now, "ban", "scan-detector", "source banned", "",
                               {{"source", ban->source}, {"why", ban->reason},
                                {"expires", ban->expires}, {"offences", ban->offence_count}});
    r.listener = record.listener;
    r.peer = record.peer;
    PG_TRY_STATUS(audit_.Write(r, audit::Durability::kDurable));
    spdlog::warn("banned {} until {}: {}", ban->source, FormatRfc3339(FromUnix(ban->expires)), ban->reason);
  }
  return Ok();
}

void Pipeline::RecordHandshakeFailure(const net::IpAddress& client, std::string_view listener,
                                      std::string_view peer) {
  audit::AuditRecord record;
  record.listener = listener;
  record.peer = peer;
  if (auto st = ScanEvent(client, defense::ScanEvent::kFailedAuth, "", record); !st) {
    spdlog::error("scan detector: {}", st.error().message);
  }
}

// The request path of DESIGN.md, top to bottom: cheap per-source refusals, identify, the
// requests naming another device, rate limit, authorize (lifecycle and window, tenant
// policy, identity hygiene), then the answer: upload, key file or rendered file.
Result<DeviceResponse> Pipeline::Decide(const DeviceRequest& request, const net::IpAddress& client,
                                        Outcome& outcome, std::string& body_memory, bool& durable) {
  audit::AuditRecord& record = outcome.record;
  std::optional<store::DeviceSeen>& seen = outcome.seen;
  std::vector<audit::AuditRecord>& events = outcome.events;
  // Before the first store read: a file rendered from what this request reads is valid at
  // this generation at the latest (RenderCache).
  const std::uint64_t generation = reads_.DataGeneration();
  const auto now_tp = clock_.Now();
  Context ctx{request, client, ToUnix(now_tp), record, events, request.method != "HEAD", durable, outcome.spent};

  // Refusals decided from the request line and the source alone. They cost the client a
  // token of its source's refusal budget, so a flood of them is answered 429 cheaply.
  auto refuse_early = [&](DeviceResponse response) {
    if (!defenses_.rate().Acquire(defense::SourceRateKey(client, "refusal")).allowed) {
      defenses_.counters().Increment(defense::counter_names::kRateLimited);
      record.decision = "deny";
      record.reason = "refusals rate limited";
      return DeviceResponse{429, "text/plain; charset=utf-8", "429 Too Many Requests\n"};
    }
    return response;
  };
  const bool upload = request.method == "PUT";
  if (request.method != "GET" && request.method != "HEAD" && !upload) {
    record.decision = "deny";
    record.reason = "method not allowed";
    return refuse_early(DeviceResponse{405, "text/plain; charset=utf-8", "405 Method Not Allowed\n", true});
  }
  std::optional<defense::TokenPath> token;
  std::string& file_name = scratch.file_name;
  if (request.target.starts_with("/p/")) {
    token = defense::ParseTokenPath(request.target);
    if (!token) return refuse_early(Deny(record, "bad path"));
    file_name.assign(token->file);
  } else if (const auto name = ExtractFileName(request.target, options_.path_prefix)) {
    file_name.assign(*name);
  } else {
    return refuse_early(Deny(record, "bad path"));
  }
  // A banned source is still heard when it proves a device by certificate or URL token: one
  // scanner behind a customer's NAT must not cut off that customer's phones.
  const bool banned = defenses_.bans().IsBanned(client, now_tp);
  const bool strong_credential = (request.cert && request.methods.client_cert) || (token && request.methods.token);
  if (banned && !strong_credential) return refuse_early(Deny(record, "banned source"));

  PG_TRY(auto identified, Identify(ctx, token, file_name));
  auto* id = std::get_if<Identity>(&identified);
  if (banned && id == nullptr) return refuse_early(Deny(record, "banned source"));

  // The device's own vendor says what the name means. A name that carries another MAC than
  // the proven one is counted however the request ends (rate limited or not).
  const vendors::Vendor* vendor = id ? vendors_.Find(id->device->vendor) : nullptr;
  Target target;
  if (vendor != nullptr) {
    if (upload) {
      target.upload = vendor->RouteUpload(file_name);
      if (target.upload) target.mac = target.upload->mac;
    } else if ((target.key_file = vendor->RouteKeyFile(file_name))) {
      target.mac = target.key_file->mac;
    } else if ((target.file = vendor->Route(file_name))) {
      target.mac = target.file->mac;
    } else {
      target.mac = MacNamedBy(file_name);  // another vendor's name for a device file
    }
    if (target.mac) record.url_mac = target.mac->str();
    outcome.vendor = vendor->name();
  }

  // Rate limits follow the authenticated identity, so phones sharing one NAT address keep
  // their own buckets; everything unauthenticated is limited per source.
  auto rate_limited = [&]() -> std::optional<DeviceResponse> {
    std::string& rate_key = scratch.rate_key;
    if (id != nullptr) {
      rate_key.assign("device:").append(id->device->mac.str());
    } else {
      rate_key = defense::SourceRateKey(client);
    }
    const auto rate = defenses_.rate().Acquire(rate_key);
    if (rate.allowed) return std::nullopt;
    defenses_.counters().Increment(defense::counter_names::kRateLimited);
    record.decision = "deny";
    record.reason = "rate limited";
    DeviceResponse r{429, "text/plain; charset=utf-8", "429 Too Many Requests\n"};
    r.retry_after = rate.retry_after_seconds;
    return r;
  };
  // A name that carries another MAC than the proven one is counted by the scan detector
  // however the request ends (rate limited or not); the incident is handled within the
  // device's rate limit.
  if (id != nullptr && target.mac && *target.mac != id->device->mac) {
    record.device = id->device->mac.str();
    record.tenant_id = id->device->tenant_id.value_or(0);
    PG_TRY_STATUS(ScanEvent(client, defense::ScanEvent::kWrongMac, target.mac->str(), record));
    if (auto limited = rate_limited()) return std::move(*limited);
    PG_TRY_STATUS(MisusedIdentity(ctx, *id, *target.mac));
    return Deny(record, "mac mismatch");
  }
  if (banned && id != nullptr && RecentlyMisused(id->device->mac, ctx.now)) {
    return refuse_early(Deny(record, "banned source"));
  }
  if (auto limited = rate_limited()) return std::move(*limited);
  if (id == nullptr) return std::move(std::get<DeviceResponse>(identified));
  if (banned) record.detail["ban_exempt"] = "authenticated device asking for its own files";
  // With the newest last-seen, which the store may not have yet (only then a copy).
  id->device = audit_.WithUncopiedSeen(std::move(id->device));
  const core::Device& device = *id->device;
  record.device = device.mac.str();
  record.tenant_id = device.tenant_id.value_or(0);
  if (id->strength != core::IdentityStrength::kClientCert) record.mac = device.mac.str();
  if (vendor == nullptr) return Deny(record, "unknown vendor: " + device.vendor);
  if (!device.locked_reason.empty()) return Deny(record, "device locked: " + device.locked_reason);
  if (!device.tenant_id) return Deny(record, "device not assigned");
  PG_TRY(auto tenant, reads_.GetTenantShared(*device.tenant_id));

  const auto ua = vendor->ParseUserAgent(request.user_agent);
  PG_TRY(auto refused, Authorize(ctx, *id, *tenant, ua));
  if (refused) return std::move(*refused);
  if (options_.withheld) {
    if (auto why = options_.withheld->Reason(device.mac, generation)) {
      defenses_.counters().Increment(defense::counter_names::kLintWithheld);
      return Deny(record, "withheld by lint: " + *why);
    }
  }

  if (upload) {
    if (!target.upload) return Deny(record, "upload not allowed");
    return Upload(ctx, device, *target.upload, file_name);
  }
  if (target.key_file) return KeyFile(ctx, device);
  if (!target.file) return Deny(record, "unknown file");
  PG_TRY(auto served, ServeFile(ctx, *vendor, *target.file, device, *tenant, file_name, generation, body_memory));
  if (served.status == 200 && target.file->scope == vendors::FileScope::kDevice && ctx.side_effects) {
    // Written by the audit committer with this request's record, before the response leaves;
    // the next files of a boot, from the same address and firmware, leave the row alone.
    std::string ip = client.ToString();
    if (!device.last_seen_at || ctx.now - *device.last_seen_at >= kSeenResolutionSeconds ||
        device.last_seen_ip != ip || device.last_user_agent != request.user_agent ||
        (!ua.firmware.empty() && device.firmware != ua.firmware)) {
      seen = store::DeviceSeen{device.id, ctx.now, std::move(ip), request.user_agent, ua.firmware};
    }
  }
  return served;
}

Status Pipeline::MisusedIdentity(const Context& ctx, const Identity& id, const core::MacAddress& named) {
  if (ctx.record.identity_source == "ip") return Ok();  // the URL's MAC is the identity
  const core::Device& device = *id.device;
  defenses_.counters().Increment(defense::counter_names::kIdentityMisuse);
  {
    // One incident record (and alert) per device per scan window; the scan detector and
    // the counter see every request.
    std::lock_guard lock(misuse_mu_);
    if (misused_.size() >= kMaxMisusedRemembered) misused_.clear();
    auto [it, first] = misused_.try_emplace(device.mac.str(), ctx.now);
    if (!first && ctx.now - it->second < defenses_.options().scan.window.count()) return Ok();
    it->second = ctx.now;
  }
  nlohmann::json detail = {{"asked_for", named.str()}, {"client", ctx.client.ToString()},
                           {"identity", ctx.record.identity_source}};
  LifecycleEvent(ctx, device, "identity misused", detail);
  spdlog::warn("ALERT device {}'s {} asked for device {}'s file from {}: its key may be in "
               "someone else's hands", device.mac.str(), ctx.record.identity_source, named.str(),
               ctx.client.ToString());
  // A lock changes state: only for a request that could otherwise have been served (the
  // device entitled now, the tenant's policy met, not a HEAD), so a stolen credential the
  // tenant's ranges or policy already make useless cannot lock the real phone.
  if (!device.tenant_id || !ctx.side_effects || !device.locked_reason.empty()) return Ok();
  PG_TRY(auto tenant, reads_.GetTenantShared(*device.tenant_id));
  const auto state = core::EffectiveState(device, ctx.now);
  const bool entitled = (state == core::DeviceState::kAssigned || state == core::DeviceState::kProvisioned) &&
                        id.strength >= tenant->min_strength &&
                        (tenant->ip_ranges.empty() || InTenantRanges(*tenant, ctx.client)) &&
                        (ctx.request.tls || tenant->allow_plain_http);
  if (tenant->lock_on_misuse && entitled) {
    PG_TRY_STATUS(Lock(ctx, device, "identity misused", std::move(detail)));
  }
  return Ok();
}

bool Pipeline::RecentlyMisused(const core::MacAddress& mac, std::int64_t now) {
  std::lock_guard lock(misuse_mu_);
  const auto it = misused_.find(mac.str());
  return it != misused_.end() && now - it->second < defenses_.options().scan.window.count();
}

Status Pipeline::Lock(const Context& ctx, const core::Device& device, const std::string& why,
                      nlohmann::json detail) {
  PG_TRY_STATUS(writes_.LockDevice(device.id, why));
  defenses_.counters().Increment("locks");
  detail["cause"] = why;
  LifecycleEvent(ctx, device, "locked", std::move(detail));
  spdlog::warn("ALERT device {} locked: {} (unlock with: provgate device unlock {})", device.mac.str(),
               why, device.mac.str());
  return Ok();
}

Status Pipeline::RecordTransition(const Context& ctx, const core::Device& device,
                                  core::DeviceState from, core::DeviceState to,
                                  const std::string& cause) {
  PG_TRY(bool won, writes_.TransitionState(device.id, from, to, ctx.now));
  if (!won) return Ok();  // a concurrent request made (and recorded) this transition
  LifecycleEvent(ctx, device, std::string(core::DeviceStateName(to)),
                 {{"from", core::DeviceStateName(from)}, {"cause", cause}});
  return Ok();
}

// Committed with the request's record, before its response leaves (Outcome::events): the
// serving thread never waits for a commit in the middle of a decision.
void Pipeline::LifecycleEvent(const Context& ctx, const core::Device& device, const std::string& what,
                              nlohmann::json detail) {
  auto r = audit::InfoRecord(clock_.Now(), "lifecycle", "device", what, device.mac.str(), std::move(detail));
  r.tenant_id = device.tenant_id.value_or(0);
  ctx.events.push_back(std::move(r));
}

}  // namespace provgate::pipeline
