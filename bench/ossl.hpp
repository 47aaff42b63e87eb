// Owning handles for the OpenSSL objects the benchmark tools use (every handle wrapped at
// the point it is created).
#pragma once

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

#include "base/result.hpp"

namespace provgate::bench {

template <class T, void (*Free)(T*)>
struct OsslDeleter {
  void operator()(T* p) const noexcept { Free(p); }
};

using BioPtr = std::unique_ptr<BIO, OsslDeleter<BIO, BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, OsslDeleter<X509, X509_free>>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, OsslDeleter<EVP_PKEY, EVP_PKEY_free>>;
using SslCtxPtr = std::unique_ptr<SSL_CTX, OsslDeleter<SSL_CTX, SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, OsslDeleter<SSL, SSL_free>>;

// The oldest queued OpenSSL error as text (and clears the queue), for messages.
std::string TakeOpensslError();

// A simulated phone's TLS client context: `version` (TLS1_2_VERSION or TLS1_3_VERSION)
// pinned, the server verified against `ca_file`, and no session cache or tickets: a
// rebooted phone has no session to resume, so every connection is a full handshake.
Result<SslCtxPtr> MakePhoneClientContext(const std::string& ca_file, int version);

}  // namespace provgate::bench
