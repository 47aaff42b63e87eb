#include "tls/testing/memory_handshake.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>

#include "tls/server_context.hpp"

namespace provgate::tls::testing {
namespace {

using internal::BioPtr;
using internal::WithErrors;

constexpr int kMaxRounds = 64;

enum class Step { kDone, kWant, kFailed };

// One non-blocking handshake step; on failure moves the thread's error queue into `error`.
Step Advance(SSL* ssl, std::string& error, unsigned long& code) {
  ERR_clear_error();
  const int rc = SSL_do_handshake(ssl);
  if (rc == 1) return Step::kDone;
  const int reason = SSL_get_error(ssl, rc);
  if (reason == SSL_ERROR_WANT_READ || reason == SSL_ERROR_WANT_WRITE) return Step::kWant;
  code = ERR_peek_error();
  error = internal::DrainErrors();
  if (error.empty()) error = "handshake failed (SSL_get_error " + std::to_string(reason) + ")";
  return Step::kFailed;
}

}  // namespace

Result<SslCtxPtr> MakeClientContext(const ClientOptions& o) {
  ERR_clear_error();
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return Error::Internal(WithErrors("SSL_CTX_new"));
  if (SSL_CTX_set_min_proto_version(ctx.get(), o.min_version) != 1 ||
      SSL_CTX_set_max_proto_version(ctx.get(), o.max_version) != 1) {
    return Error::InvalidArgument(WithErrors("bad protocol versions"));
  }
  if (!o.cipher_list.empty() && SSL_CTX_set_cipher_list(ctx.get(), o.cipher_list.c_str()) != 1) {
    return Error::InvalidArgument(WithErrors("bad cipher list"));
  }
  if (!o.trust_pem.empty()) {
    BioPtr bio = internal::MemBio(o.trust_pem);
    internal::X509InfoStackPtr infos(bio ? PEM_X509_INFO_read_bio(bio.get(), nullptr, nullptr, nullptr) : nullptr);
    if (!infos) return Error::InvalidArgument(WithErrors("bad trust PEM"));
    X509_STORE* store = SSL_CTX_get_cert_store(ctx.get());
    for (int i = 0; i < sk_X509_INFO_num(infos.get()); ++i) {
      X509_INFO* info = sk_X509_INFO_value(infos.get(), i);
      if (info->x509 != nullptr && X509_STORE_add_cert(store, info->x509) != 1) {
        return Error::InvalidArgument(WithErrors("cannot add trust certificate"));
      }
    }
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
    if (!o.verify_host.empty()) {
      X509_VERIFY_PARAM* param = SSL_CTX_get0_param(ctx.get());
      if (X509_VERIFY_PARAM_set1_host(param, o.verify_host.c_str(), o.verify_host.size()) != 1) {
        return Error::InvalidArgument(WithErrors("bad verify host"));
      }
    }
  }
  if (!o.cert_pem.empty()) {
    BioPtr cert_bio = internal::MemBio(o.cert_pem);
    BioPtr key_bio = internal::MemBio(o.key_pem);
    if (!cert_bio || !key_bio) return Error::Internal("out of memory");
    internal::X509Ptr cert(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
    internal::EvpPkeyPtr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
    if (!cert || !key) return Error::InvalidArgument(WithErrors("bad client cert/key PEM"));
    if (SSL_CTX_use_certificate(ctx.get(), cert.get()) != 1 || SSL_CTX_use_PrivateKey(ctx.get(), key.get()) != 1) {
      return Error::InvalidArgument(WithErrors("cannot use client cert/key"));
    }
    // Further PEM blocks are intermediates the client sends along.
    while (true) {
      internal::X509Ptr extra(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
      if (!extra) break;
      if (SSL_CTX_add1_chain_cert(ctx.get(), extra.get()) != 1) {
        return Error::InvalidArgument(WithErrors("cannot add client chain certificate"));
      }
    }
    ERR_clear_error();  // end of PEM input
  }
  return ctx;
}

HandshakeOutcome RunMemoryHandshake(SSL_CTX* server_ctx, SSL_CTX* client_ctx, SSL_SESSION* resume) {
  HandshakeOutcome out;
  out.server.reset(SSL_new(server_ctx));
  out.client.reset(SSL_new(client_ctx));
  BIO* server_bio = nullptr;
  BIO* client_bio = nullptr;
  if (!out.server || !out.client || BIO_new_bio_pair(&server_bio, 0, &client_bio, 0) != 1) {
    out.server_error = WithErrors("cannot set up the in-memory handshake");
    return out;
  }
  // Each SSL takes ownership of its end of the pair.
  SSL_set_bio(out.server.get(), server_bio, server_bio);
  SSL_set_bio(out.client.get(), client_bio, client_bio);
  if (resume != nullptr && SSL_set_session(out.client.get(), resume) != 1) {
    out.client_error = WithErrors("cannot offer the session");
    return out;
  }
  SSL_set_accept_state(out.server.get());
  SSL_set_connect_state(out.client.get());

  Step client = Step::kWant;
  Step server = Step::kWant;
  unsigned long client_code = 0;
  for (int round = 0; round < kMaxRounds; ++round) {
    if (client == Step::kWant) client = Advance(out.client.get(), out.client_error, client_code);
    if (server == Step::kWant) {
      server = Advance(out.server.get(), out.server_error, out.server_error_code);
    }
    if (client == Step::kFailed || server == Step::kFailed) break;
    if (client == Step::kDone && server == Step::kDone) {
      out.ok = true;
      // As the listener does: the TLS 1.3 ticket leaves with the first application write.
      // A client read processes it (and the byte).
      QueueSessionTicket(out.server.get());
      const char byte = 'x';
      static_cast<void>(SSL_write(out.server.get(), &byte, 1));
      char got = 0;
      static_cast<void>(SSL_read(out.client.get(), &got, 1));
      break;
    }
  }
  if (!out.ok && out.server_error.empty() && out.client_error.empty()) {
    out.server_error = "handshake did not finish";
  }
  ERR_clear_error();
  return out;
}

}  // namespace provgate::tls::testing
