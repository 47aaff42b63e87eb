// Identify: who is asking. The MAC in the URL is only a claim; a device is proven by its
// client certificate, its URL token, its digest (or Basic, over TLS) credential, or, where a
// tenant allows it, the source address range.
#include "core/mac_address.hpp"
#include "pipeline/pipeline.hpp"
#include "pipeline/stage_common.hpp"

namespace provgate::pipeline {
namespace {

// RFC 9110 §11.1: the auth-scheme is case-insensitive.
bool HasScheme(std::string_view authorization, std::string_view scheme) {
  if (authorization.size() <= scheme.size() || authorization[scheme.size()] != ' ') return false;
  for (size_t i = 0; i < scheme.size(); ++i) {
    char c = authorization[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != scheme[i]) return false;
  }
  return true;
}

}  // namespace

std::optional<core::MacAddress> Pipeline::MacNamedBy(std::string_view file_name) const {
  for (const auto& name : vendors_.Names()) {
    const vendors::Vendor* v = vendors_.Find(name);
    if (auto route = v->Route(file_name); route && route->mac) return route->mac;
    if (auto up = v->RouteUpload(file_name)) return up->mac;
    if (auto key = v->RouteKeyFile(file_name)) return key->mac;
  }
  return std::nullopt;
}

Result<Pipeline::Identified> Pipeline::Identify(const Context& ctx, const std::optional<defense::TokenPath>& token,
                                      const std::string& file_name) {
  const DeviceRequest& request = ctx.request;
  audit::AuditRecord& record = ctx.record;
  const auto& m = request.methods;
  if (request.cert && m.client_cert) {
    record.identity_source = "client-cert";
    PG_TRY(auto device, FindProven(reads_, request.cert->mac));
    if (!device) return Identified(Deny(record, "unknown device"));
    return Identified(Identity{core::IdentityStrength::kClientCert, std::move(device)});
  }
  if (token && m.token) {
    record.identity_source = "token";
    auto d = named_.FindDeviceByToken(defense::HashToken(token->token));
    if (!d) {
      if (d.error().code != ErrorCode::kNotFound) return d.error();
      PG_TRY_STATUS(ScanEvent(ctx.client, defense::ScanEvent::kFailedAuth, "", record));
      return Identified(Deny(record, "wrong token"));
    }
    return Identified(Identity{core::IdentityStrength::kToken, std::make_shared<const core::Device>(std::move(*d))});
  }
  if (!request.authorization.empty() && m.digest) {
    if (HasScheme(request.authorization, "digest")) return IdentifyByDigest(ctx);
    if (HasScheme(request.authorization, "basic") && request.tls) return IdentifyByBasic(ctx);
  }

  // No credential. A tenant may let its source ranges identify a device by the URL's MAC.
  const auto url_mac = MacNamedBy(file_name);
  std::shared_ptr<const core::Device> claimed;
  if (url_mac) {
    PG_TRY(claimed, FindNamed(named_, *url_mac));
  }
  if (m.ip && claimed && claimed->tenant_id) {
    PG_TRY(auto tenant, named_.GetTenant(*claimed->tenant_id));
    if (tenant.ip_as_identity && !tenant.ip_ranges.empty() && InTenantRanges(tenant, ctx.client)) {
      record.identity_source = "ip";
      return Identified(Identity{core::IdentityStrength::kIpRange, std::move(claimed)});
    }
  }
  // A scanner walks MACs nobody owns; phones behind a NAT ask for their own, known, MAC
  // (and then answer the challenge), so only unknown MACs count towards a ban.
  if (url_mac && !claimed) {
    PG_TRY_STATUS(ScanEvent(ctx.client, defense::ScanEvent::kUnknownMac, url_mac->str(), record));
  }
  if (url_mac) record.url_mac = url_mac->str();
  const std::string_view why = request.cert_problem.empty() ? std::string_view("no identity") : request.cert_problem;
  if (m.digest) return Identified(Challenge(record, why, false));
  return Identified(Deny(record, std::string(why)));
}

// The tested verifier (defense::VerifyDigest) decides; unknown users cost the same hash
// work (a dummy HA1).
Result<Pipeline::Identified> Pipeline::IdentifyByDigest(const Context& ctx) {
  audit::AuditRecord& record = ctx.record;
  record.identity_source = "digest";
  const auto& options = defenses_.options();
  auto creds = defense::ParseDigestAuthorization(ctx.request.authorization);
  if (!creds) {
    PG_TRY_STATUS(ScanEvent(ctx.client, defense::ScanEvent::kFailedAuth, "", record));
    return Identified(Challenge(record, "digest malformed", false));
  }
  const auto mac = core::MacAddress::Parse(creds->username);
  std::shared_ptr<const core::Device> device;
  if (mac) {
    PG_TRY(device, FindNamed(named_, *mac));
  }
  const bool known = device && device->digest_password;
  const std::string ha1 = known ? defense::ComputeHa1(creds->algorithm, creds->username, options.realm,
                                                      *device->digest_password)
                                : defense::DummyHa1(creds->algorithm);
  const defense::DigestRequest digest_request{ctx.request.method, ctx.request.target, options.realm,
                                              options.digest_algorithms};
  auto outcome = defense::VerifyDigest(*creds, digest_request, ha1, defenses_.nonces());
  if (!known && outcome != defense::DigestOutcome::kAlgorithmRefused &&
      outcome != defense::DigestOutcome::kInvalidNonce) {
    outcome = defense::DigestOutcome::kBadResponse;  // a dummy HA1 proves nobody
  }
  const std::string named = mac ? mac->str() : "";
  switch (outcome) {
    case defense::DigestOutcome::kOk:
      return Identified(Identity{core::IdentityStrength::kDigest, std::move(device)});
    case defense::DigestOutcome::kStaleNonce:
      return Identified(Challenge(record, "digest nonce stale", true));
    case defense::DigestOutcome::kAlgorithmRefused:
      PG_TRY_STATUS(ScanEvent(ctx.client, defense::ScanEvent::kFailedAuth, named, record));
      return Identified(Challenge(record, "digest algorithm refused", false));
    case defense::DigestOutcome::kReplayedNonce:
      PG_TRY_STATUS(ScanEvent(ctx.client, defense::ScanEvent::kFailedAuth, named, record));
      return Identified(Challenge(record, "digest replay", false));
    case defense::DigestOutcome::kInvalidNonce:
      PG_TRY_STATUS(ScanEvent(ctx.client, defense::ScanEvent::kFailedAuth, named, record));
      return Identified(Challenge(record, "digest nonce invalid", false));
    case defense::DigestOutcome::kBadResponse: break;
  }
  PG_TRY_STATUS(ScanEvent(ctx.client, defense::ScanEvent::kFailedAuth, named, record));
  return Identified(Challenge(record, "digest failed", false));
}

// Basic carries the password itself, so it is accepted only over TLS; checked against the
// SHA-256 HA1 of the device's digest password (defense::VerifyBasic).
Result<Pipeline::Identified> Pipeline::IdentifyByBasic(const Context& ctx) {
  audit::AuditRecord& record = ctx.record;
  record.identity_source = "basic";
  const auto& realm = defenses_.options().realm;
  auto creds = defense::ParseBasicAuthorization(ctx.request.authorization);
  std::shared_ptr<const core::Device> device;
  if (creds) {
    if (auto mac = core::MacAddress::Parse(creds->user)) {
      PG_TRY(device, FindNamed(named_, *mac));
    }
  }
  const bool known = device && device->digest_password;
  const auto alg = defense::DigestAlgorithm::kSha256;
  const std::string ha1 = known ? defense::ComputeHa1(alg, creds->user, realm, *device->digest_password)
                                : defense::DummyHa1(alg);
  const bool ok = creds && defense::VerifyBasic(*creds, realm, alg, ha1);
  if (!known || !ok) {
    PG_TRY_STATUS(ScanEvent(ctx.client, defense::ScanEvent::kFailedAuth, "", record));
    return Identified(Challenge(record, "basic failed", false));
  }
  return Identified(Identity{core::IdentityStrength::kDigest, std::move(device)});
}

}  // namespace provgate::pipeline
