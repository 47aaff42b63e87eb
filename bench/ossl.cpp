#include "bench/ossl.hpp"

#include <openssl/err.h>

namespace provgate::bench {

Result<SslCtxPtr> MakePhoneClientContext(const std::string& ca_file, int version) {
  ERR_clear_error();
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return Error::Internal("SSL_CTX_new: " + DrainErrors());
  if (SSL_CTX_set_min_proto_version(ctx.get(), version) != 1 ||
      SSL_CTX_set_max_proto_version(ctx.get(), version) != 1) {
    return Error::Internal("cannot pin the TLS version: " + DrainErrors());
  }
  if (SSL_CTX_load_verify_locations(ctx.get(), ca_file.c_str(), nullptr) != 1) {
    return Error::InvalidArgument("cannot load " + ca_file + ": " + DrainErrors());
  }
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_TICKET);
  return ctx;
}

}  // namespace provgate::bench
