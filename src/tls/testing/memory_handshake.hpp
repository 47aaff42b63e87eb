// Test and benchmark helper: runs a TLS handshake between a server and a client SSL_CTX
// entirely in memory (an OpenSSL BIO pair), so tests need no sockets, ports or threads.
// Not for production code.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "base/result.hpp"
#include "tls/internal/ossl.hpp"

namespace provgate::tls::testing {

using SslCtxPtr = internal::SslCtxPtr;
using SslPtr = internal::SslPtr;

struct ClientOptions {
  std::string trust_pem;  // CA(s) the client verifies the server with; empty = no check
  std::string cert_pem;   // client certificate (leaf first); empty = present none
  std::string key_pem;
  int min_version = TLS1_2_VERSION;
  int max_version = TLS1_3_VERSION;
  std::string cipher_list;  // TLS <= 1.2 list; empty = OpenSSL default
  std::string verify_host;  // when set, the server certificate must match this name
};

// A client context for the options above. Thread-compatible.
Result<SslCtxPtr> MakeClientContext(const ClientOptions& options);

struct HandshakeOutcome {
  bool ok = false;           // both sides completed the handshake
  std::string server_error;  // OpenSSL error text seen by the server side, if it failed
  std::string client_error;
  unsigned long server_error_code = 0;  // first ERR_get_error() code of the server failure
  SslPtr server;                        // kept for inspection (peer cert, cipher, ex_data)
  SslPtr client;
};

using SslSessionPtr = std::unique_ptr<SSL_SESSION, internal::Deleter<SSL_SESSION, SSL_SESSION_free>>;

// Runs one handshake to completion or failure; offers `resume` when given. After a
// success the client has also read the server's session tickets, so
// SSL_get1_session(outcome.client.get()) is resumable. Uses this thread's error queue.
HandshakeOutcome RunMemoryHandshake(SSL_CTX* server_ctx, SSL_CTX* client_ctx, SSL_SESSION* resume = nullptr);

}  // namespace provgate::tls::testing
