// HTTP authentication for devices without a usable certificate: Digest (RFC 7616, SHA-256
// and MD5, qop=auth only) and Basic (RFC 7617, over TLS only; the listener enforces that).
// The user name is a device's MAC and the password that device's own digest password, which
// the store keeps sealed; the caller computes HA1 = H(user:realm:password) from it for each
// verification. Every verification runs the same hash and constant-time comparison whether
// or not the user exists: the caller passes DummyHa1() for unknown users.
#pragma once

#include <array>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.hpp"
#include "base/result.hpp"

namespace provgate::defense {

enum class DigestAlgorithm : std::uint8_t { kSha256, kMd5 };

// "SHA-256" or "MD5", as in the header.
std::string_view DigestAlgorithmName(DigestAlgorithm a);

// Lowercase hex H(user:realm:password), the HA1 the verifiers compare against.
std::string ComputeHa1(DigestAlgorithm algorithm, std::string_view user, std::string_view realm,
                       std::string_view password);

// The qop=auth response a client computes: H(HA1:nonce:nc:cnonce:auth:H(method:uri)),
// lowercase hex. Exposed for tests and test clients.
std::string ComputeDigestResponse(DigestAlgorithm algorithm, std::string_view ha1_hex, std::string_view nonce,
                                  std::string_view nc_text, std::string_view cnonce, std::string_view method,
                                  std::string_view uri);

// A random HA1 of the right length, fixed for the life of the process, for unknown users so
// that their verification costs what a known user's does. Thread-safe.
const std::string& DummyHa1(DigestAlgorithm algorithm);

inline constexpr size_t kMaxAuthorizationBytes = 4096;

// The parameters of an `Authorization: Digest ...` header value.
struct DigestCredentials {
  std::string username;
  std::string realm;
  std::string nonce;
  std::string uri;
  std::string response;                               // lowercase hex
  DigestAlgorithm algorithm = DigestAlgorithm::kMd5;  // RFC 7616: absent means MD5
  std::string cnonce;
  std::uint32_t nc = 0;
  std::string nc_text;  // the 8 hex digits as sent: they enter the hash verbatim
};

// Strict parse of a complete header value ("Digest " + auth-params). Requires username,
// realm, nonce, uri, response, qop=auth, nc (8 hex digits, non-zero) and cnonce; refuses
// duplicate parameters, the -sess algorithms, userhash=true and username* (we never offer
// them), control characters, more than 32 parameters and values over kMaxAuthorizationBytes.
Result<DigestCredentials> ParseDigestAuthorization(std::string_view header_value);

struct BasicCredentials {
  std::string user;
  std::string password;
};

// "Basic " + canonical base64 (padding required) of user ":" password; the user must be
// non-empty and neither part may hold control characters.
Result<BasicCredentials> ParseBasicAuthorization(std::string_view header_value);

// Constant-time check of a Basic password against the user's HA1 of `algorithm`.
bool VerifyBasic(const BasicCredentials& credentials, std::string_view realm, DigestAlgorithm algorithm,
                 std::string_view ha1_hex);

struct NonceManagerOptions {
  Seconds lifetime{300};
  // How many nonces' highest nonce-count are remembered. When full the oldest are dropped
  // and every nonce issued up to the newest dropped one becomes stale: memory stays bounded
  // and a dropped nonce can never be replayed.
  size_t max_tracked = 100000;
};

enum class NonceCheck : std::uint8_t {
  kValid,
  kStale,    // ours, but expired (or forgotten under memory pressure): re-challenge, stale=true
  kInvalid,  // not ours (bad MAC, wrong realm, malformed)
  kReplay,   // nonce-count not above the highest already accepted for this nonce
};

// Issues nonces = base64url(issue time || random || HMAC-SHA256(key, time || random ||
// scope)[:16]), where the scope (the `realm` argument) is what the nonce is bound to
// (Challenge and VerifyDigest: the realm and the channel), and tracks, per nonce, the highest nonce-count accepted. The
// key is random per process unless given; nodes behind one balancer are given the same key
// ([defense] nonce_key_file) so that a nonce verifies on every node. Replay state stays per
// node: a response accepted by one node is accepted at most once more by each other node
// within the nonce's lifetime (docs/cluster.md says why that is acceptable). Thread-safe.
class NonceManager {
 public:
  static constexpr size_t kKeySize = 32;
  NonceManager(const Clock& clock, NonceManagerOptions options);
  NonceManager(const Clock& clock, NonceManagerOptions options, const std::array<unsigned char, kKeySize>& key);
  ~NonceManager();
  NonceManager(const NonceManager&) = delete;
  NonceManager& operator=(const NonceManager&) = delete;

  std::string Issue(std::string_view realm);
  // Checks authenticity and age only; does not record anything.
  NonceCheck Check(std::string_view nonce, std::string_view realm) const;
  // Check, then records `nc` as used when valid and above the highest seen.
  NonceCheck Use(std::string_view nonce, std::string_view realm, std::uint32_t nc);

  size_t tracked() const;

 private:
  struct Decoded;
  std::optional<Decoded> Decode(std::string_view nonce, std::string_view realm) const;
  void PruneLocked(std::int64_t now_ms);

  const Clock& clock_;
  NonceManagerOptions options_;
  std::array<unsigned char, kKeySize> key_{};
  mutable std::mutex mu_;
  // (issue time ms, random) -> highest nc accepted; ordered by issue time for pruning.
  std::map<std::pair<std::int64_t, std::uint64_t>, std::uint32_t> used_;
  // Nonces at or before this key were forgotten and count as stale.
  std::pair<std::int64_t, std::uint64_t> forgotten_up_to_{INT64_MIN, 0};
};

// The connection a nonce is issued on, and the only one it verifies on: an Authorization
// header seen on a plain-HTTP connection cannot be replayed over TLS (where the same URL
// may carry a key or a plain copy the plain listener refuses).
enum class Channel : std::uint8_t { kTls, kPlain };

// WWW-Authenticate values, one per algorithm in the order given (put SHA-256 first), with a
// nonce bound to `channel`. The form depends only on realm, algorithms and `stale`, never
// on who asked.
std::vector<std::string> Challenge(NonceManager& nonces, std::string_view realm, Channel channel,
                                   const std::vector<DigestAlgorithm>& algorithms, bool stale = false);

enum class DigestOutcome : std::uint8_t {
  kOk,
  kBadResponse,    // wrong password (or unknown user), wrong uri or realm
  kStaleNonce,     // right password, expired nonce: answer with a stale=true challenge
  kInvalidNonce,   // not a nonce we issued
  kReplayedNonce,  // nonce-count reused
  kAlgorithmRefused,
};

struct DigestRequest {
  std::string_view method;          // "GET"
  std::string_view request_target;  // the request target exactly as received
  std::string_view realm;           // the realm we challenge with
  std::vector<DigestAlgorithm> allowed_algorithms;
  Channel channel;  // the connection the request came on; its nonce must have been issued there
};

// Verifies credentials against `ha1_hex` (the user's HA1, or DummyHa1 for an unknown user).
// Always computes and compares the full response in constant time before looking at the
// nonce, so the cost does not depend on whether the user exists. Records the nonce-count
// only on success.
DigestOutcome VerifyDigest(const DigestCredentials& credentials, const DigestRequest& request, std::string_view ha1_hex,
                           NonceManager& nonces);

}  // namespace provgate::defense
