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

namespace provgate::pipeline {
namespace {

// Strings a request builds on its way through Decide, in memory the serving thread keeps:
// a keep-alive request allocates nothing for them.
struct Scratch {
  std::string file_name;
  std::string rate_key;
  std::string cache_key;
};
thread_local Scratch scratch;

// Whether `client` is inside the tenant's source ranges. The ranges were validated when they
// were set; an unparsable stored list matches nothing.
bool InTenantRanges(const core::Tenant& tenant, const net::IpAddress& client) {
  auto ranges = net::IpSet::Parse(tenant.ip_ranges);
  return ranges && ranges->Contains(client);
}

DeviceResponse Deny(audit::AuditRecord& record, std::string reason) {
  record.decision = "deny";
  record.reason = std::move(reason);
  return UniformNotFound();
}

}  // namespace

std::vector<audit::AuditRecord> Outcome::TakeRecords() {
  std::vector<audit::AuditRecord> records = std::move(events);
  records.push_back(std::move(record));
  return records;
}

DeviceResponse UniformNotFound() {
  return DeviceResponse{404, "text/plain; charset=utf-8", "404 Not Found\n", false};
}


Pipeline::Pipeline(store::Store& store, store::Store& reads, const vendors::Registry& vendors,
                   const render::TemplateSet& templates, audit::AuditLog& audit,
                   const Clock& clock, Defenses& defenses, PipelineOptions options)
    : store_(store),
      reads_(reads),
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
  audit::AuditRecord& record = outcome.record;
  record.Clear();
  record.time = request.received;
  record.listener = request.listener;
  record.peer.assign(request.peer_ip).append(":").append(Decimal(request.peer_port).view());
  record.method = request.method;
  defense::RedactTarget(request.target, record.file);  // URL tokens never reach a log
  record.user_agent = request.user_agent;
  record.identity_source = "none";
  record.cert_subject = request.cert ? request.cert->subject : request.cert_subject;
  if (request.cert) record.mac = request.cert->mac.str();

  // The client address: the TCP peer, or what a configured trusted proxy says it forwarded.
  net::IpAddress client = net::IpAddress::V4({0, 0, 0, 0});
  if (auto peer = net::IpAddress::Parse(request.peer_ip)) {
    const auto resolved = net::ResolveClientAddress(*peer, defenses_.options().trusted_proxies,
                                                    request.forwarded, request.x_forwarded_for);
    client = resolved.address;
    if (resolved.source == net::ClientAddressSource::kForwardingHeader) {
      record.detail["client"] = client.ToString();
    }
  }

  DeviceResponse response;
  auto permit = defenses_.gate().TryEnter();
  if (!permit.admitted()) {
    defenses_.counters().Increment(defense::counter_names::kShed);
    record.decision = "deny";
    record.reason = "load shed";
    response = DeviceResponse{503, "text/plain; charset=utf-8", "503 Service Unavailable\n"};
    response.retry_after = permit.retry_after_seconds();
  } else {
    try {
      response = Decide(request, client, record, outcome.seen, outcome.events, body_memory);
    } catch (const std::exception& e) {
      spdlog::error("request pipeline failed: {}", e.what());
      record.decision = "error";
      record.reason = std::string("internal error: ") + e.what();
      response = DeviceResponse{500, "text/plain; charset=utf-8", "500 Internal Server Error\n"};
    }
  }
  if (record.decision == "deny") {
    defenses_.counters().Increment(std::string(defense::counter_names::kRefusalPrefix) +
                                   record.reason.substr(0, record.reason.find(':')));
  }
  if (response.status != 200) outcome.seen.reset();  // only an answered fetch counts as seen
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
  }
  return outcome.response;
}

DeviceResponse Pipeline::Handle(const DeviceRequest& request) {
  Outcome outcome = Evaluate(request);
  std::optional<store::DeviceSeen> seen = std::move(outcome.seen);
  const Status committed = audit_.WriteBatch(outcome.TakeRecords(), audit::Durability::kDurable,
                                             std::move(seen));
  Respond(outcome, committed);
  return std::move(outcome.response);
}

DeviceResponse Pipeline::Challenge(audit::AuditRecord& record, std::string reason, bool stale) {
  record.decision = "deny";
  record.reason = std::move(reason);
  DeviceResponse r{401, "text/plain; charset=utf-8", "401 Unauthorized\n"};
  // The same challenge whoever asked: it depends only on realm and algorithms.
  r.www_authenticate = defense::Challenge(defenses_.nonces(), defenses_.options().realm,
                                          {defense::DigestAlgorithm::kSha256, defense::DigestAlgorithm::kMd5},
                                          stale);
  return r;
}

void Pipeline::ScanEvent(const net::IpAddress& client, defense::ScanEvent event,
                         std::string_view mac, audit::AuditRecord& record) {
  const auto now = clock_.Now();
  for (const auto& signal : defenses_.scan().Record(client, event, mac, now)) {
    defenses_.counters().Increment(defense::counter_names::kScanSignals);
    auto ban = defenses_.bans().BanSource(signal.source, "scan: " + signal.reason, now);
    if (!ban) throw ErrorException(ban.error());
    if (!*ban) continue;  // allowlisted, or already banned
    defenses_.counters().Increment(defense::counter_names::kBans);
    auto r = audit::InfoRecord(now, "ban", "scan-detector", "source banned", "",
                               {{"source", (*ban)->source}, {"why", (*ban)->reason},
                                {"expires", (*ban)->expires}, {"offences", (*ban)->offence_count}});
    r.listener = record.listener;
    r.peer = record.peer;
    if (auto st = audit_.Write(r, audit::Durability::kDurable); !st) throw ErrorException(st.error());
    spdlog::warn("banned {} until {}: {}", (*ban)->source, FormatRfc3339(FromUnix((*ban)->expires)),
                 (*ban)->reason);
  }
}

std::optional<core::MacAddress> Pipeline::MacNamedBy(std::string_view file_name) const {
  for (const auto& name : vendors_.Names()) {
    if (auto route = vendors_.Find(name)->Route(file_name); route && route->mac) return route->mac;
    if (auto up = vendors_.Find(name)->RouteUpload(file_name)) return up->mac;
    if (auto key = vendors_.Find(name)->RouteKeyFile(file_name)) return key->mac;
  }
  return std::nullopt;
}

// Finds the device a request proves to be, by the listener's allowed methods in order of
// strength. On failure returns the response to send (uniform 404 or a digest challenge)
// after recording scan events; unknown and known devices cost the same work.
std::variant<Pipeline::Identity, DeviceResponse> Pipeline::Identify(
    const DeviceRequest& request, const std::optional<defense::TokenPath>& token,
    const std::string& file_name, const net::IpAddress& client, audit::AuditRecord& record) {
  const auto& m = request.methods;
  // A MAC proven by a verified certificate is read through the cache; one a request merely
  // names (digest or basic user, URL) is read from the store, so that a cached device and
  // an unknown name cost the same store read and answer in the same time.
  auto find_in = [](store::Store& from, const core::MacAddress& mac) -> std::shared_ptr<const core::Device> {
    auto d = from.FindDeviceShared(mac);
    if (d) return std::move(*d);
    if (d.error().code != ErrorCode::kNotFound) throw ErrorException(d.error());
    return nullptr;
  };
  auto find = [&](const core::MacAddress& mac) { return find_in(store_, mac); };

  if (request.cert && m.client_cert) {
    record.identity_source = "client-cert";
    auto device = find_in(reads_, request.cert->mac);
    if (!device) return Deny(record, "unknown device");
    return Identity{core::IdentityStrength::kClientCert, std::move(device)};
  }
  if (token && m.token) {
    record.identity_source = "token";
    auto d = store_.FindDeviceByToken(defense::HashToken(token->token));
    if (!d) {
      if (d.error().code != ErrorCode::kNotFound) throw ErrorException(d.error());
      ScanEvent(client, defense::ScanEvent::kFailedAuth, "", record);
      return Deny(record, "wrong token");
    }
    return Identity{core::IdentityStrength::kToken, std::make_shared<const core::Device>(std::move(*d))};
  }
  const std::string_view auth = request.authorization;
  if (!auth.empty() && m.digest) {
    const std::string& realm = defenses_.options().realm;
    if (auth.starts_with("Digest ") || auth.starts_with("digest ")) {
      record.identity_source = "digest";
      auto creds = defense::ParseDigestAuthorization(auth);
      if (!creds) {
        ScanEvent(client, defense::ScanEvent::kFailedAuth, "", record);
        return Challenge(record, "digest malformed", false);
      }
      auto mac = core::MacAddress::Parse(creds->username);
      const auto device = mac ? find(*mac) : nullptr;
      const bool known = device && device->digest_password;
      // Same hash work for unknown users: a dummy HA1.
      const std::string ha1 =
          known ? defense::ComputeHa1(creds->algorithm, creds->username, realm, *device->digest_password)
                : defense::DummyHa1(creds->algorithm);
      const std::string expected = defense::ComputeDigestResponse(
          creds->algorithm, ha1, creds->nonce, creds->nc_text, creds->cnonce, request.method, creds->uri);
      const bool response_ok = crypto::ConstantTimeEquals(expected, creds->response);
      if (!known || !response_ok || creds->realm != realm || creds->uri != request.target) {
        ScanEvent(client, defense::ScanEvent::kFailedAuth, mac ? mac->str() : "", record);
        return Challenge(record, "digest failed", false);
      }
      switch (defenses_.nonces().Use(creds->nonce, realm, creds->nc)) {
        case defense::NonceCheck::kValid: break;
        case defense::NonceCheck::kStale: return Challenge(record, "digest nonce stale", true);
        case defense::NonceCheck::kReplay:
          ScanEvent(client, defense::ScanEvent::kFailedAuth, device->mac.str(), record);
          return Challenge(record, "digest replay", false);
        case defense::NonceCheck::kInvalid:
          ScanEvent(client, defense::ScanEvent::kFailedAuth, device->mac.str(), record);
          return Challenge(record, "digest nonce invalid", false);
      }
      return Identity{core::IdentityStrength::kDigest, device};
    }
    if ((auth.starts_with("Basic ") || auth.starts_with("basic ")) && request.tls) {
      record.identity_source = "basic";
      auto creds = defense::ParseBasicAuthorization(auth);
      std::shared_ptr<const core::Device> device;
      if (creds) {
        if (auto mac = core::MacAddress::Parse(creds->user)) device = find(*mac);
      }
      const bool known = device && device->digest_password;
      const auto alg = defense::DigestAlgorithm::kSha256;
      const std::string ha1 = known ? defense::ComputeHa1(alg, creds->user, realm, *device->digest_password)
                                    : defense::DummyHa1(alg);
      const bool ok = creds && defense::VerifyBasic(*creds, realm, alg, ha1);
      if (!known || !ok) {
        ScanEvent(client, defense::ScanEvent::kFailedAuth, "", record);
        return Challenge(record, "basic failed", false);
      }
      return Identity{core::IdentityStrength::kDigest, std::move(device)};
    }
  }

  // No credential. A tenant may let its source ranges identify a device by the URL's MAC.
  const auto url_mac = MacNamedBy(file_name);
  auto claimed = url_mac ? find(*url_mac) : nullptr;
  if (m.ip && claimed && claimed->tenant_id) {
    auto tenant = store_.GetTenant(*claimed->tenant_id);
    if (!tenant) throw ErrorException(tenant.error());
    if (tenant->ip_as_identity && !tenant->ip_ranges.empty()) {
      if (InTenantRanges(*tenant, client)) {
        record.identity_source = "ip";
        return Identity{core::IdentityStrength::kIpRange, std::move(claimed)};
      }
    }
  }
  // A scanner walks MACs nobody owns; phones behind a NAT ask for their own, known, MAC
  // (and then answer the challenge), so only unknown MACs count towards a ban.
  if (url_mac && !claimed) ScanEvent(client, defense::ScanEvent::kUnknownMac, url_mac->str(), record);
  if (url_mac) record.url_mac = url_mac->str();
  if (m.digest) return Challenge(record, request.cert_problem.empty() ? "no identity" : request.cert_problem, false);
  return Deny(record, request.cert_problem.empty() ? "no identity" : request.cert_problem);
}

DeviceResponse Pipeline::Decide(const DeviceRequest& request, const net::IpAddress& client,
                                audit::AuditRecord& record, std::optional<store::DeviceSeen>& seen,
                                std::vector<audit::AuditRecord>& events, std::string& body_memory) {
  // Before the first store read: a file rendered from what this request reads is valid at
  // this generation at the latest (RenderCache).
  const std::uint64_t generation = reads_.DataGeneration();
  const auto now_tp = clock_.Now();
  const std::int64_t now = ToUnix(now_tp);
  if (defenses_.bans().IsBanned(client, now_tp)) return Deny(record, "banned source");

  const bool upload = request.method == "PUT";
  if (request.method != "GET" && request.method != "HEAD" && !upload) {
    record.decision = "deny";
    record.reason = "method not allowed";
    return DeviceResponse{405, "text/plain; charset=utf-8", "405 Method Not Allowed\n", true};
  }
  std::optional<defense::TokenPath> token;
  std::string& file_name = scratch.file_name;
  if (request.target.starts_with("/p/")) {
    token = defense::ParseTokenPath(request.target);
    if (!token) return Deny(record, "bad path");
    file_name.assign(token->file);
  } else if (const auto name = ExtractFileName(request.target, options_.path_prefix)) {
    file_name.assign(*name);
  } else {
    return Deny(record, "bad path");
  }

  auto identified = Identify(request, token, file_name, client, record);
  // Rate limits follow the authenticated identity, so phones sharing one NAT address keep
  // their own buckets; everything unauthenticated is limited per source.
  std::string& rate_key = scratch.rate_key;
  if (const auto* identity = std::get_if<Identity>(&identified)) {
    rate_key.assign("device:").append(identity->device->mac.str());
  } else {
    rate_key = defense::SourceRateKey(client);
  }
  if (const auto rate = defenses_.rate().Acquire(rate_key); !rate.allowed) {
    defenses_.counters().Increment(defense::counter_names::kRateLimited);
    record.decision = "deny";
    record.reason = "rate limited";
    DeviceResponse r{429, "text/plain; charset=utf-8", "429 Too Many Requests\n"};
    r.retry_after = rate.retry_after_seconds;
    return r;
  }
  if (auto* refusal = std::get_if<DeviceResponse>(&identified)) return std::move(*refusal);
  Identity id = std::move(std::get<Identity>(identified));
  // With the newest last-seen, which the store may not have yet (only then a copy).
  id.device = audit_.WithUncopiedSeen(std::move(id.device));
  const core::Device* device = id.device.get();
  record.device = device->mac.str();
  if (id.strength != core::IdentityStrength::kClientCert) record.mac = device->mac.str();

  if (!device->locked_reason.empty()) return Deny(record, "device locked: " + device->locked_reason);
  if (!device->tenant_id) return Deny(record, "device not assigned");
  auto tenant_read = reads_.GetTenantShared(*device->tenant_id);
  if (!tenant_read) throw ErrorException(tenant_read.error());
  const core::Tenant* tenant = tenant_read->get();

  // authorize: the tenant's policy.
  if (id.strength < tenant->min_strength) {
    return Deny(record, fmt::format("below policy: {} < {}", core::IdentityStrengthName(id.strength),
                                    core::IdentityStrengthName(tenant->min_strength)));
  }
  if (!tenant->ip_ranges.empty()) {
    if (!InTenantRanges(*tenant, client)) return Deny(record, "outside ip range");
  }
  if (!request.tls && (!tenant->allow_plain_http || (id.strength != core::IdentityStrength::kToken &&
                                                     id.strength != core::IdentityStrength::kDigest))) {
    return Deny(record, "plain http not allowed");
  }

  // route: the device's own vendor module decides what the file name means.
  const vendors::Vendor* vendor = vendors_.Find(device->vendor);
  if (vendor == nullptr) return Deny(record, "unknown vendor " + device->vendor);
  const auto ua = vendor->ParseUserAgent(request.user_agent);
  if (ua.mac && *ua.mac != device->mac) {
    ScanEvent(client, defense::ScanEvent::kWrongMac, ua.mac->str(), record);
    return Deny(record, "user-agent mac mismatch");
  }

  // Certificate pinning: a vendor CA is not enough; the device's own key is.
  if (id.strength == core::IdentityStrength::kClientCert) {
    if (device->pin_spki.empty()) {
      auto pinned = store_.PinDevice(device->id, request.cert->spki_sha256);
      if (!pinned) throw ErrorException(pinned.error());
      if (*pinned) {
        LifecycleEvent(*device, "certificate pinned", {{"spki_sha256", request.cert->spki_sha256}}, events);
      }
    } else if (!crypto::ConstantTimeEquals(device->pin_spki, request.cert->spki_sha256)) {
      Lock(*device, "certificate key changed",
           {{"pinned", device->pin_spki}, {"presented", request.cert->spki_sha256}}, events);
      return Deny(record, "certificate key changed");
    }
  }
  // Anomaly locks: a provisioned phone that moves network, or a first fetch long after assignment.
  if (tenant->anomaly_lock) {
    if (device->state == core::DeviceState::kProvisioned && !device->last_seen_ip.empty()) {
      auto last = net::IpAddress::Parse(device->last_seen_ip);
      const int prefix = client.is_v4() ? tenant->anomaly_prefix_v4 : tenant->anomaly_prefix_v6;
      auto net_of_last = last ? net::Cidr::Of(*last, prefix) : Result<net::Cidr>(Error::InvalidArgument(""));
      if (last && (last->family() != client.family() || !net_of_last || !net_of_last->Contains(client))) {
        Lock(*device, "network changed", {{"last_seen_ip", device->last_seen_ip}, {"now", client.ToString()}},
             events);
        return Deny(record, "network changed");
      }
    }
    if (device->state == core::DeviceState::kAssigned && !device->last_seen_at &&
        tenant->late_first_fetch_days > 0 && device->window_opens &&
        now - *device->window_opens > std::int64_t{tenant->late_first_fetch_days} * 86400) {
      Lock(*device, "first seen late", {{"assigned", *device->window_opens}}, events);
      return Deny(record, "first seen late");
    }
  }

  if (upload) return Upload(*vendor, *device, request, file_name, client, record);
  if (auto key_file = vendor->RouteKeyFile(file_name)) {
    record.url_mac = key_file->mac.str();
    if (key_file->mac != device->mac) {
      ScanEvent(client, defense::ScanEvent::kWrongMac, key_file->mac.str(), record);
      return Deny(record, "mac mismatch");
    }
    if (!device->config_key) return Deny(record, "no config key");
    auto wrapped = encrypt::WrapYealinkKey(*device->config_key);
    if (!wrapped) throw ErrorException(wrapped.error());
    record.decision = "allow";
    record.reason = "key file";
    return DeviceResponse{200, "application/octet-stream", std::move(*wrapped)};
  }
  const auto route = vendor->Route(file_name);
  if (!route) return Deny(record, "unknown file");
  if (route->mac) record.url_mac = route->mac->str();
  if (route->scope == vendors::FileScope::kDevice && route->mac != device->mac) {
    ScanEvent(client, defense::ScanEvent::kWrongMac, route->mac ? route->mac->str() : "", record);
    return Deny(record, "mac mismatch");
  }

  // authorize: lifecycle state and provisioning window, evaluated now (no cron job).
  const core::DeviceState state = core::EffectiveState(*device, now);
  if (state != device->state) {
    RecordTransition(*device, device->state, state, now, "provisioning window ended without a fetch",
                     events);
  }
  switch (state) {
    case core::DeviceState::kStock: return Deny(record, "device not assigned");
    case core::DeviceState::kRetired: return Deny(record, "device retired");
    case core::DeviceState::kExpired: return Deny(record, "window expired");
    case core::DeviceState::kAssigned:
    case core::DeviceState::kProvisioned: break;
  }

  const auto scheme = vendor->Encryption(*route);
  if (scheme && scheme->required && !device->config_key) return Deny(record, "no config key");
  const render::Template* tpl = templates_.Find(device->vendor, route->template_name);
  if (tpl == nullptr) {
    throw ErrorException(Error::Internal("no template " + device->vendor + "/" + route->template_name));
  }
  const bool device_file = route->scope == vendors::FileScope::kDevice;
  std::string& cache_key = scratch.cache_key;
  if (device_file) {
    RenderCache::DeviceKey(cache_key, device->mac, file_name);
  } else {
    RenderCache::CommonKey(cache_key, *device->tenant_id, device->vendor, device->model, file_name);
  }
  std::string body = std::move(body_memory);
  // A file rendered at this generation for a device with no stored password: there is
  // nothing to deliver or confirm, as reading the lines again would show.
  if (!render_cache_.Find(cache_key, generation, body)) {
    std::vector<core::Line> lines;
    bool stored_password = false;
    if (device_file) {
      // Only files that can carry a password take part in delivery and confirmation.
      auto l = tpl->References("password")
                   ? LinesWithDeliverablePasswords(*device, *tenant, now, events, stored_password)
                   : LinesWithoutPasswords(*device, stored_password);
      if (!l) throw ErrorException(l.error());
      lines = std::move(*l);
    }
    body = RenderFile(templates_, *tpl, *route, *device, *tenant, lines, file_name,
                      options_.provisioning_url);
    // A stored password, even one this response leaves out, has a future (delivery, the
    // wipe when its grace period ends) that only a request reading the lines carries out.
    if (!stored_password) render_cache_.Put(cache_key, body, generation);
  }
  if (scheme && device->config_key) {
    auto encrypted = encrypt::Encrypt(scheme->cipher, *device->config_key, body);
    if (!encrypted) throw ErrorException(encrypted.error());
    body = std::move(*encrypted);
    record.detail["encrypted"] = true;
  }
  if (route->scope == vendors::FileScope::kDevice) {
    if (device->state == core::DeviceState::kAssigned) {
      RecordTransition(*device, core::DeviceState::kAssigned, core::DeviceState::kProvisioned, now,
                       "first authenticated fetch", events);
    }
    // Written by the audit committer with this request's record, before the response leaves;
    // the next files of a boot, from the same address and firmware, leave the row alone.
    std::string ip = client.ToString();
    if (!device->last_seen_at || now - *device->last_seen_at >= kSeenResolutionSeconds ||
        device->last_seen_ip != ip || device->last_user_agent != request.user_agent ||
        (!ua.firmware.empty() && device->firmware != ua.firmware)) {
      seen = store::DeviceSeen{device->id, now, std::move(ip), request.user_agent, ua.firmware};
    }
  }
  record.decision = "allow";
  record.reason = route->scope == vendors::FileScope::kDevice ? "device file" : "common file";
  return DeviceResponse{200, scheme && device->config_key ? "application/octet-stream" : route->content_type,
                        std::move(body)};
}

DeviceResponse Pipeline::Upload(const vendors::Vendor& vendor, const core::Device& device,
                                const DeviceRequest& request, const std::string& file_name,
                                const net::IpAddress& client, audit::AuditRecord& record) {
  const auto slot = vendor.RouteUpload(file_name);
  if (!slot) return Deny(record, "upload not allowed");
  record.url_mac = slot->mac.str();
  if (slot->mac != device.mac) {
    ScanEvent(client, defense::ScanEvent::kWrongMac, slot->mac.str(), record);
    return Deny(record, "mac mismatch");
  }
  if (request.body.size() > slot->max_bytes) return Deny(record, "upload too large");
  const auto& root = defenses_.options().uploads_dir;
  if (root.empty()) return Deny(record, "uploads disabled");
  // Stored apart from everything provgate generates, under a name provgate chose.
  const std::filesystem::path dir = root / device.mac.str();
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const auto final_path = dir / file_name;
  const auto tmp = dir / (file_name + ".part");
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(request.body.data(), static_cast<std::streamsize>(request.body.size()));
    if (!out) throw ErrorException(Error::Unavailable("cannot write upload " + tmp.string()));
  }
  std::filesystem::rename(tmp, final_path, ec);
  if (ec) throw ErrorException(Error::Unavailable("cannot store upload: " + ec.message()));
  record.decision = "allow";
  record.reason = "upload stored";
  record.detail["upload_kind"] = slot->kind;
  record.detail["upload_bytes"] = request.body.size();
  return DeviceResponse{204, "text/plain; charset=utf-8", ""};
}

void Pipeline::Lock(const core::Device& device, const std::string& why, nlohmann::json detail,
                    std::vector<audit::AuditRecord>& events) {
  if (auto st = store_.LockDevice(device.id, why); !st) throw ErrorException(st.error());
  defenses_.counters().Increment("locks");
  detail["cause"] = why;
  LifecycleEvent(device, "locked", std::move(detail), events);
  spdlog::warn("ALERT device {} locked: {} (unlock with: provgate device unlock {})", device.mac.str(),
               why, device.mac.str());
}

void Pipeline::RecordTransition(const core::Device& device, core::DeviceState from,
                                core::DeviceState to, std::int64_t now, const std::string& cause,
                                std::vector<audit::AuditRecord>& events) {
  auto won = store_.TransitionState(device.id, from, to, now);
  if (!won) throw ErrorException(won.error());
  if (!*won) return;  // a concurrent request made (and recorded) this transition
  LifecycleEvent(device, std::string(core::DeviceStateName(to)),
                 {{"from", core::DeviceStateName(from)}, {"cause", cause}}, events);
}

// Committed with the request's record, before its response leaves (Outcome::events): the
// serving thread never waits for a commit in the middle of a decision.
void Pipeline::LifecycleEvent(const core::Device& device, const std::string& what,
                              nlohmann::json detail, std::vector<audit::AuditRecord>& events) {
  events.push_back(
      audit::InfoRecord(clock_.Now(), "lifecycle", "device", what, device.mac.str(), std::move(detail)));
}

Result<std::vector<core::Line>> Pipeline::LinesWithoutPasswords(const core::Device& device,
                                                                bool& stored_password) {
  PG_TRY(auto lines, reads_.ListLines(device.id));
  stored_password = core::AnyPassword(lines);
  for (auto& l : lines) l.password.reset();
  return lines;
}

Result<std::vector<core::Line>> Pipeline::LinesWithDeliverablePasswords(
    const core::Device& device, const core::Tenant& tenant, std::int64_t now,
    std::vector<audit::AuditRecord>& events, bool& stored_password) {
  PG_TRY(auto lines, reads_.ListLines(device.id));
  stored_password = core::AnyPassword(lines);
  if (tenant.password_policy == core::PasswordPolicy::kAlways) return lines;

  // The write statements below run only when this snapshot shows they have work: a device
  // fetching again after its passwords were delivered and wiped costs one read. Skipping on
  // a stale snapshot is safe: the claim itself stays atomic, and a password that arrives
  // after the read is simply delivered on the next fetch.
  const std::int64_t cutoff = core::ConfirmedDeliveryCutoff(tenant, now);
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
    PG_TRY(wiped, store_.WipeDeliveredPasswords(device.id, cutoff));
  }
  if (!wiped.empty()) {
    LifecycleEvent(device, "password removed",
                   {{"lines", wiped},
                    {"cause", tenant.confirm_grace_seconds == 0 ? "confirmed by the device's next fetch"
                                                                 : "grace period after delivery ended"}},
                   events);
  }
  // Then the atomic claim: of concurrent requests, exactly one gets each undelivered password.
  std::vector<core::Line> claimed;
  if (to_claim) {
    PG_TRY(claimed, store_.ClaimPasswords(device.id, now));
  }
  if (!claimed.empty()) {
    std::vector<int> indexes;
    for (const auto& l : claimed) indexes.push_back(l.index);
    LifecycleEvent(device, "password delivered",
                   {{"lines", indexes}, {"policy", core::PasswordPolicyName(tenant.password_policy)}},
                   events);
  }
  if (!wiped.empty() || !claimed.empty()) {
    PG_TRY(lines, reads_.ListLines(device.id));
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
