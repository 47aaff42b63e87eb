#include "pipeline/identify.hpp"

#include "core/mac_address.hpp"
#include "defense/digest.hpp"
#include "pipeline/route.hpp"

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

Refused Challenge(Refusal why, bool stale = false) {
  return Refused{why, {}, stale ? Answer::kStaleChallenge : Answer::kChallenge};
}

// The tested verifier (defense::VerifyDigest) decides; unknown users cost the same hash
// work (a dummy HA1).
Result<Step<Identity>> IdentifyByDigest(const StageDeps& deps, RequestState& state) {
  state.record.identity_source = "digest";
  const auto& options = deps.defenses.options();
  auto creds = defense::ParseDigestAuthorization(state.request.authorization);
  if (!creds) {
    state.Scan(defense::ScanEvent::kFailedAuth);
    return Challenge(Refusal::kDigestMalformed);
  }
  const auto mac = core::MacAddress::Parse(creds->username);
  std::shared_ptr<const core::Device> device;
  if (mac) {
    PG_TRY(device, FindNamed(deps.named, *mac));
  }
  const bool known = device && device->digest_password;
  const std::string ha1 =
      known ? defense::ComputeHa1(creds->algorithm, creds->username, options.realm, *device->digest_password)
            : defense::DummyHa1(creds->algorithm);
  const defense::DigestRequest digest_request{state.request.method, state.request.target, options.realm,
                                              options.digest_algorithms,
                                              state.request.tls ? defense::Channel::kTls : defense::Channel::kPlain};
  auto outcome = defense::VerifyDigest(*creds, digest_request, ha1, deps.defenses.nonces());
  if (!known && outcome != defense::DigestOutcome::kAlgorithmRefused &&
      outcome != defense::DigestOutcome::kInvalidNonce) {
    outcome = defense::DigestOutcome::kBadResponse;  // a dummy HA1 proves nobody
  }
  const std::string_view named = mac ? std::string_view(mac->str()) : std::string_view();
  Refusal why = Refusal::kDigestFailed;
  switch (outcome) {
    case defense::DigestOutcome::kOk: return Identity{core::IdentityStrength::kDigest, std::move(device)};
    case defense::DigestOutcome::kStaleNonce: return Challenge(Refusal::kDigestNonceStale, true);
    case defense::DigestOutcome::kAlgorithmRefused: why = Refusal::kDigestAlgorithmRefused; break;
    case defense::DigestOutcome::kReplayedNonce: why = Refusal::kDigestReplay; break;
    case defense::DigestOutcome::kInvalidNonce: why = Refusal::kDigestNonceInvalid; break;
    case defense::DigestOutcome::kBadResponse: break;
  }
  state.Scan(defense::ScanEvent::kFailedAuth, named);
  return Challenge(why);
}

// Basic carries the password itself, so it is accepted only over TLS; checked against the
// SHA-256 HA1 of the device's digest password (defense::VerifyBasic).
Result<Step<Identity>> IdentifyByBasic(const StageDeps& deps, RequestState& state) {
  state.record.identity_source = "basic";
  const auto& realm = deps.defenses.options().realm;
  auto creds = defense::ParseBasicAuthorization(state.request.authorization);
  std::shared_ptr<const core::Device> device;
  if (creds) {
    if (auto mac = core::MacAddress::Parse(creds->user)) {
      PG_TRY(device, FindNamed(deps.named, *mac));
    }
  }
  const bool known = device && device->digest_password;
  const auto alg = defense::DigestAlgorithm::kSha256;
  const std::string ha1 =
      known ? defense::ComputeHa1(alg, creds->user, realm, *device->digest_password) : defense::DummyHa1(alg);
  const bool ok = creds && defense::VerifyBasic(*creds, realm, alg, ha1);
  if (!known || !ok) {
    state.Scan(defense::ScanEvent::kFailedAuth);
    return Challenge(Refusal::kBasicFailed);
  }
  return Identity{core::IdentityStrength::kDigest, std::move(device)};
}

// Why a request without a usable credential is refused: what the listener found wrong with
// its certificate, if it sent one.
Refused NoCredential(const DeviceRequest& request) {
  Refused refused{Refusal::kNoIdentity};
  if (request.cert_problem == kCertProblemNoMac) {
    refused.why = Refusal::kNoMacInCertificate;
  } else if (!request.cert_problem.empty()) {
    refused.why = Refusal::kCertificateRefused;
    refused.detail = request.cert_problem;
  }
  refused.answer = NoCredentialAnswer(request);
  return refused;
}

}  // namespace

Answer NoCredentialAnswer(const DeviceRequest& request) {
  return request.methods.digest ? Answer::kChallenge : Answer::kNotFound;
}

Result<Step<Identity>> Identify(const StageDeps& deps, RequestState& state, const Admitted& admitted) {
  const DeviceRequest& request = state.request;
  audit::AuditRecord& record = state.record;
  const auto& m = request.methods;
  if (request.cert && m.client_cert) {
    record.identity_source = "client-cert";
    PG_TRY(auto device, FindProven(deps.proven, request.cert->mac));
    if (!device) return Refused{Refusal::kUnknownDevice};
    return Identity{core::IdentityStrength::kClientCert, std::move(device)};
  }
  if (admitted.token && m.token) {
    record.identity_source = "token";
    auto d = deps.named.FindDeviceByToken(defense::HashToken(admitted.token->token));
    if (!d) {
      if (d.error().code != ErrorCode::kNotFound) return d.error();
      state.Scan(defense::ScanEvent::kFailedAuth);
      return Refused{Refusal::kWrongToken};
    }
    return Identity{core::IdentityStrength::kToken, std::make_shared<const core::Device>(std::move(*d))};
  }
  if (!request.authorization.empty() && m.digest) {
    if (HasScheme(request.authorization, "digest")) return IdentifyByDigest(deps, state);
    if (HasScheme(request.authorization, "basic") && request.tls) return IdentifyByBasic(deps, state);
  }

  // No credential. A tenant may let its source ranges identify a device by the URL's MAC.
  const auto url_mac = MacNamedBy(deps.vendors, admitted.file_name());
  std::shared_ptr<const core::Device> claimed;
  if (url_mac) {
    PG_TRY(claimed, FindNamed(deps.named, *url_mac));
  }
  if (m.ip && claimed && claimed->tenant_id) {
    // Nothing is proven yet: a tenant that cannot be read identifies nobody, and the request
    // is refused like one naming an unknown MAC, not failed (invariant 2); the record says why.
    auto tenant = deps.named.GetTenant(*claimed->tenant_id);
    if (!tenant) {
      record.detail["ip_identity"] = "not tried: " + tenant.error().message;
    } else if (tenant->ip_as_identity && !tenant->ip_ranges.empty() && InTenantRanges(*tenant, state.client)) {
      record.identity_source = "ip";
      return Identity{core::IdentityStrength::kIpRange, std::move(claimed)};
    }
  }
  // A scanner walks MACs nobody owns; phones behind a NAT ask for their own, known, MAC
  // (and then answer the challenge), so only unknown MACs count towards a ban.
  if (url_mac && !claimed) state.Scan(defense::ScanEvent::kUnknownMac, url_mac->str());
  if (url_mac) record.url_mac = url_mac->str();
  return NoCredential(request);
}

}  // namespace provgate::pipeline
