// TLS server contexts, built once per listener at start-up: TLS 1.2 and 1.3 only, a modern
// AEAD cipher list, the listener's server certificate and its own trust-anchor bundle of
// device CAs, and the client-certificate policy.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <openssl/ssl.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "base/result.hpp"

namespace provgate::tls {

enum class ClientCertMode { kRequired, kOptional, kOff };
Result<ClientCertMode> ParseClientCertMode(std::string_view text);  // required|optional|off
std::string_view ClientCertModeName(ClientCertMode m);

struct ServerTlsSettings {
  std::filesystem::path cert_file;                 // PEM, leaf first then intermediates
  std::filesystem::path key_file;                  // PEM
  std::vector<std::filesystem::path> trust_anchors; // PEM bundles of device CAs
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

// Fails with an operator-readable message naming the file that could not be used.
Result<std::shared_ptr<boost::asio::ssl::context>> MakeServerContext(const ServerTlsSettings& s);

// Why certificate verification failed on this connection, recorded by the verify callback
// MakeServerContext installs: empty when verification succeeded or never ran.
struct VerifyFailure {
  std::string reason;   // e.g. "certificate has expired", "unable to get local issuer certificate"
  std::string subject;  // subject of the certificate that failed, if any
};
VerifyFailure GetVerifyFailure(SSL* ssl);

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
