// TLS server contexts, built once per listener at start-up: TLS 1.2 and 1.3 only, the
// listener's TLS profile (which TLS 1.2 suites it offers), its server certificates (one per
// key type), its own trust-anchor bundle of device CAs, and the client-certificate policy.
#pragma once

#include <openssl/ssl.h>
#include <boost/asio/ssl/context.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace provgate::tls {

enum class ClientCertMode { kRequired, kOptional, kOff };
Result<ClientCertMode> ParseClientCertMode(std::string_view text);  // required|optional|off
std::string_view ClientCertModeName(ClientCertMode m);

// Which TLS 1.2 cipher suites a listener offers; TLS 1.3 is the same in every profile (its
// suites are all AEAD) and so are the key exchange groups (X25519, P-256, P-384).
//  kModern: ECDHE key exchange, AES-GCM or ChaCha20-Poly1305 only.
//  kCompatible: kModern first, then ECDHE with AES-CBC and HMAC-SHA256/384 or HMAC-SHA1,
//    for phones whose TLS 1.2 stack has no AEAD suite (docs/vendors/tls.md). Never static
//    RSA key exchange, 3DES, RC4, export or anonymous suites, never TLS 1.0/1.1. The server's
//    order wins, so a client that offers an AEAD suite gets one.
enum class TlsProfile { kModern, kCompatible };
Result<TlsProfile> ParseTlsProfile(std::string_view text);  // modern|compatible
std::string_view TlsProfileName(TlsProfile p);

// A server certificate chain and its private key.
struct ServerCertFiles {
  std::filesystem::path cert_file;  // PEM, leaf first then intermediates
  std::filesystem::path key_file;   // PEM
};

struct ServerTlsSettings {
  std::filesystem::path cert_file;  // PEM, leaf first then intermediates
  std::filesystem::path key_file;   // PEM
  // More certificates for the same listener, each with a key of a type no other has (at
  // most one RSA and one ECDSA in all): OpenSSL sends each client one it can verify, ECDSA
  // when the client accepts both.
  std::vector<ServerCertFiles> more_certs;
  TlsProfile profile = TlsProfile::kModern;
  std::vector<std::filesystem::path> trust_anchors;  // PEM bundles of device CAs
  ClientCertMode client_cert = ClientCertMode::kRequired;
  // Sessions kept in this process for resumption (0 = no resumption). A phone that
  // reconnects within kSessionLifetimeSeconds (the next file of its boot) resumes without a
  // full handshake. The state stays on the server; the client gets only a session id. With
  // OpenSSL 3.0 a stateless ticket (the whole session sealed for the client) cost ~160 us
  // of server CPU per full handshake in our benchmark; a cached session costs ~50 us and
  // about 10 KB (it holds the decoded client certificate). Phones rebooting after a power
  // cut have no session, so the cache is sized for reconnects, not for the fleet.
  int session_cache = 1024;
};

// How long a cached session may be resumed, and so how long a resumed connection goes on
// trusting a certificate verified when its session began (tls::PeerIdentity re-checks its
// expiry).
inline constexpr long kSessionLifetimeSeconds = 300;
inline constexpr int kMaxSessionCache = 1'000'000;

// Fails with an operator-readable message naming the file that could not be used, or the
// two certificates whose keys are of the same type.
Result<std::shared_ptr<boost::asio::ssl::context>> MakeServerContext(const ServerTlsSettings& s);

// Why certificate verification failed on this connection, recorded by the verify callback
// MakeServerContext installs: empty when verification succeeded or never ran.
struct VerifyFailure {
  std::string reason;   // e.g. "certificate has expired", "unable to get local issuer certificate"
  std::string subject;  // subject of the certificate that failed, if any
  int error = 0;        // X509_V_ERR_* of the failure, 0 when none was recorded
};
VerifyFailure GetVerifyFailure(SSL* ssl);

// Why a device handshake failed, as a fixed set for metrics: never text from the peer or
// from OpenSSL's messages.
//  kNoCertificate: none presented where the listener requires one.
//  kUntrusted: a certificate that does not chain to the listener's trust anchors (unknown
//    issuer, self-signed, bad signature, wrong purpose, ...).
//  kExpired: outside its validity period (expired or not yet valid).
//  kRevoked: revoked by a CRL.
//  kOther: everything else (protocol or version mismatch, a connect and close, a timeout).
enum class HandshakeFailure : std::uint8_t { kNoCertificate, kUntrusted, kExpired, kRevoked, kOther };
inline constexpr size_t kHandshakeFailureKinds = 5;
std::string_view HandshakeFailureName(HandshakeFailure f);  // "no_certificate", "untrusted", ...
// `verify` is the connection's GetVerifyFailure; `ssl_reason` the OpenSSL reason code
// (ERR_GET_REASON) of the handshake's error, or 0 when it was not an OpenSSL error.
HandshakeFailure ClassifyHandshakeFailure(const VerifyFailure& verify, int ssl_reason);

// Queues this connection's TLS 1.3 session ticket so that it leaves with the next
// application write (the first response) rather than in a TCP write of its own right after
// the handshake: contexts made by MakeServerContext issue none during the handshake. Does
// nothing for TLS 1.2 (session ids) or when the context keeps no session cache.
void QueueSessionTicket(SSL* ssl);

class VerifiedCertCache;
// The cache of already verified client certificates of a context made by
// MakeServerContext (tls/verified_cache.hpp), or null when client certificates are off.
const VerifiedCertCache* VerifiedCertCacheOf(SSL_CTX* ctx);

}  // namespace provgate::tls
