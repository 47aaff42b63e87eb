// Why the device plane refused a request, as a value the stages return and Decide acts on.
// One name table drives the audit reason, the refusal counter and the metric label; a
// client's text never becomes a label.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace provgate::pipeline {

enum class Refusal : std::uint8_t {
  // Decided from the request line and the source.
  kMethodNotAllowed,
  kBadPath,
  kBannedSource,
  kRefusalsRateLimited,
  kRateLimited,
  kLoadShed,
  kMalformedForwarding,
  // Identification.
  kUnknownDevice,
  kWrongToken,
  kNoIdentity,
  kNoMacInCertificate,
  kCertificateRefused,
  kDigestMalformed,
  kDigestNonceInvalid,
  kDigestNonceStale,
  kDigestReplay,
  kDigestAlgorithmRefused,
  kDigestFailed,
  kBasicFailed,
  // Authorization.
  kMacMismatch,
  kUnknownVendor,
  kDeviceLocked,
  kDeviceNotAssigned,
  kDeviceRetired,
  kWindowExpired,
  kBelowPolicy,
  kOutsideIpRange,
  kPlainHttpNotAllowed,
  kUserAgentMacMismatch,
  kCertificateKeyChanged,
  kNetworkChanged,
  kFirstSeenLate,
  kWithheldByLint,
  // Serving.
  kUnknownFile,
  kUploadNotAllowed,
  kUploadTooLarge,
  kUploadsDisabled,
  kUploadNeedsTls,
  kNoConfigKey,
  kKeyNeedsTls,
  kDeviceFileNeedsTls,
  kClaimInFlight,
};

// Indexed by Refusal: the audit reason (before any ": detail") and the metric label.
inline constexpr std::array<std::string_view, 42> kRefusalNames = {"method not allowed",
                                                                   "bad path",
                                                                   "banned source",
                                                                   "refusals rate limited",
                                                                   "rate limited",
                                                                   "load shed",
                                                                   "malformed forwarding header",
                                                                   "unknown device",
                                                                   "wrong token",
                                                                   "no identity",
                                                                   "no MAC in certificate",
                                                                   "certificate refused",
                                                                   "digest malformed",
                                                                   "digest nonce invalid",
                                                                   "digest nonce stale",
                                                                   "digest replay",
                                                                   "digest algorithm refused",
                                                                   "digest failed",
                                                                   "basic failed",
                                                                   "mac mismatch",
                                                                   "unknown vendor",
                                                                   "device locked",
                                                                   "device not assigned",
                                                                   "device retired",
                                                                   "window expired",
                                                                   "below policy",
                                                                   "outside ip range",
                                                                   "plain http not allowed",
                                                                   "user-agent mac mismatch",
                                                                   "certificate key changed",
                                                                   "network changed",
                                                                   "first seen late",
                                                                   "withheld by lint",
                                                                   "unknown file",
                                                                   "upload not allowed",
                                                                   "upload too large",
                                                                   "uploads disabled",
                                                                   "upload needs tls",
                                                                   "no config key",
                                                                   "key needs tls",
                                                                   "device file needs tls or encryption",
                                                                   "claim in flight"};
static_assert(kRefusalNames.size() == static_cast<size_t>(Refusal::kClaimInFlight) + 1);

constexpr std::string_view RefusalName(Refusal why) { return kRefusalNames[static_cast<size_t>(why)]; }

// How a refusal is answered. Every kNotFound is the same byte-identical 404 (DESIGN
// invariant 2), whatever the refusal; only the audit record tells them apart.
enum class Answer : std::uint8_t {
  kNotFound,
  kChallenge,         // 401 with the digest challenge
  kStaleChallenge,    // 401, the challenge marked stale=true
  kMethodNotAllowed,  // 405 with Allow
  kTooManyRequests,   // 429 with Retry-After
  kUnavailable,       // 503 with Retry-After
};

struct Refused {
  Refusal why;
  std::string detail;  // audit only, after "<name>: "; never sent, never a label
  Answer answer = Answer::kNotFound;
  std::int64_t retry_after = 0;  // seconds, for kTooManyRequests and kUnavailable

  // The audit record's reason: the name, then ": detail" when there is one.
  std::string AuditReason() const;
};

// What a stage hands on: the value the next stage needs, or the refusal that ends the request.
template <class T>
using Step = std::variant<T, Refused>;

}  // namespace provgate::pipeline
