#include "tls/server_context.hpp"

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <climits>
#include <ctime>
#include <exception>
#include <mutex>
#include <new>
#include <system_error>
#include <vector>

#include "tls/cert_identity.hpp"
#include "tls/internal/ossl.hpp"
#include "tls/verified_cache.hpp"

namespace provgate::tls {
namespace {

using internal::BioPtr;
using internal::EvpPkeyPtr;
using internal::WithErrors;
using internal::X509InfoStackPtr;
using internal::X509Ptr;

// TLS 1.2 suites of the modern profile: forward secrecy and AEAD only. TLS 1.3 keeps
// OpenSSL's defaults, which are all AEAD already. Named one by one, never by OpenSSL's
// keywords, so no OpenSSL version or system configuration adds a suite.
constexpr const char* kModernTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
// The compatible profile: the modern suites first, then forward-secret AES-CBC for phones
// without AEAD in TLS 1.2 (OpenSSL negotiates encrypt-then-MAC with clients that offer it).
constexpr const char* kCompatibleTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256:"
    "ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES256-SHA384:"
    "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:"
    "ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES256-SHA";
constexpr const char* kGroups = "X25519:P-256:P-384";
constexpr int kVerifyDepth = 4;
// Sessions resumed on a listener must have been verified by that listener's policy;
// OpenSSL refuses resumption with client verification unless a context id is set.
constexpr unsigned char kSessionIdContext[] = "provgate";

void FreeVerifyFailure(void* /*parent*/, void* ptr, CRYPTO_EX_DATA* /*ad*/, int /*idx*/, long /*argl*/,
                       void* /*argp*/) {
  delete static_cast<VerifyFailure*>(ptr);
}

// One ex_data slot per process for the VerifyFailure record; its free callback runs when
// the SSL is freed, so records never outlive their connection.
int VerifyFailureIndex() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, FreeVerifyFailure);
  return index;
}

// Records the first failure of the chain on the connection and keeps OpenSSL's verdict.
int VerifyCallback(int preverify_ok, X509_STORE_CTX* store) noexcept {
  if (preverify_ok == 1) return preverify_ok;
  const int index = VerifyFailureIndex();
  if (index < 0) return preverify_ok;
  auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  if (ssl == nullptr || SSL_get_ex_data(ssl, index) != nullptr) return preverify_ok;
  try {
    auto record = std::make_unique<VerifyFailure>();
    const char* reason = X509_verify_cert_error_string(X509_STORE_CTX_get_error(store));
    record->reason = reason != nullptr ? reason : "certificate verification failed";
    record->subject = SubjectOneLine(X509_STORE_CTX_get_current_cert(store));
    record->error = X509_STORE_CTX_get_error(store);
    // Stored: the slot owns the record from here (freed by its callback with the SSL).
    if (SSL_set_ex_data(ssl, index, record.get()) == 1) static_cast<void>(record.release());
  } catch (const std::bad_alloc&) {
    // The handshake fails either way; only the diagnostic is lost.
  }
  return preverify_ok;
}

// Room for every phone of a large boot storm; about 100 bytes per entry.
constexpr std::size_t kVerifiedCacheCapacity = 131072;

void FreeVerifiedCache(void* /*parent*/, void* ptr, CRYPTO_EX_DATA* /*ad*/, int /*idx*/, long /*argl*/,
                       void* /*argp*/) {
  delete static_cast<VerifiedCertCache*>(ptr);
}

// The context's VerifiedCertCache lives in its ex_data and is freed with it.
int VerifiedCacheIndex() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, FreeVerifiedCache);
  return index;
}

std::int64_t VerificationTime(X509_STORE_CTX* store) {
  const X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(store);
  if ((X509_VERIFY_PARAM_get_flags(param) & X509_V_FLAG_USE_CHECK_TIME) != 0) {
    return static_cast<std::int64_t>(X509_VERIFY_PARAM_get_time(param));
  }
  return static_cast<std::int64_t>(std::time(nullptr));
}

// Replaces OpenSSL's chain verification for client certificates: a certificate that
// verified before on this context, and is still inside its chain's validity, is accepted
// without building the chain again; anything else goes through X509_verify_cert (with the
// diagnostics of VerifyCallback) and is remembered only if it passed.
int CachedVerify(X509_STORE_CTX* store, void* arg) noexcept {
  auto* cache = static_cast<VerifiedCertCache*>(arg);
  X509* leaf = X509_STORE_CTX_get0_cert(store);
  VerifiedCertCache::Key key{};
  unsigned int len = 0;
  const bool keyed = cache != nullptr && leaf != nullptr && X509_digest(leaf, EVP_sha256(), key.data(), &len) == 1 &&
                     len == key.size();
  if (keyed && cache->Contains(key, VerificationTime(store))) {
    X509_STORE_CTX_set_error(store, X509_V_OK);
    return 1;
  }
  const int ok = X509_verify_cert(store);
  if (ok != 1) return 0;
  if (!keyed) return ok;
  std::int64_t not_before = INT64_MIN;
  std::int64_t not_after = INT64_MAX;
  STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(store);
  for (int i = 0; i < sk_X509_num(chain); ++i) {
    X509* cert = sk_X509_value(chain, i);
    const auto from = internal::UnixTime(X509_get0_notBefore(cert));
    const auto until = internal::UnixTime(X509_get0_notAfter(cert));
    if (!from || !until) return ok;  // unreadable validity: verified, but not remembered
    not_before = std::max(not_before, *from);
    not_after = std::min(not_after, *until);
  }
  try {
    cache->Insert(key, not_before, not_after);
  } catch (const std::bad_alloc&) {
    // Verified all the same; only the shortcut for next time is lost.
  }
  return ok;
}

bool FileReadable(const std::filesystem::path& p) {
  std::error_code ec;
  return std::filesystem::is_regular_file(p, ec);
}

// Adds every certificate of one PEM bundle to the store and the client-CA name list.
Status LoadTrustBundle(const std::filesystem::path& path, X509_STORE* store, STACK_OF(X509_NAME) * ca_names) {
  if (!FileReadable(path)) {
    return Error::InvalidArgument("trust anchor bundle " + path.string() + " is not a readable file");
  }
  BioPtr bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) return Error::InvalidArgument(WithErrors("cannot open trust anchor bundle " + path.string()));
  X509InfoStackPtr infos(PEM_X509_INFO_read_bio(bio.get(), nullptr, nullptr, nullptr));
  if (!infos) {
    return Error::InvalidArgument(WithErrors("cannot parse trust anchor bundle " + path.string()));
  }
  int added = 0;
  for (int i = 0; i < sk_X509_INFO_num(infos.get()); ++i) {
    X509_INFO* info = sk_X509_INFO_value(infos.get(), i);
    if (info == nullptr || info->x509 == nullptr) continue;
    // OpenSSL fills a certificate's cache of decoded extensions (its key identifiers among
    // them) on first use; left to the first handshakes, two serving threads verifying chains
    // through this anchor at once race on it (ThreadSanitizer saw one thread read the
    // anchor's key identifier while another was setting it). Filled here, before any
    // thread serves, the anchors are only ever read.
    static_cast<void>(X509_get_extension_flags(info->x509));
    if (X509_STORE_add_cert(store, info->x509) != 1) {
      return Error::InvalidArgument(WithErrors("cannot add a certificate of " + path.string()));
    }
    internal::X509NamePtr name(X509_NAME_dup(X509_get_subject_name(info->x509)));
    if (!name || sk_X509_NAME_push(ca_names, name.get()) <= 0) {
      return Error::Internal(WithErrors("out of memory loading " + path.string()));
    }
    static_cast<void>(name.release());
    ++added;
  }
  ERR_clear_error();
  if (added == 0) {
    return Error::InvalidArgument("trust anchor bundle " + path.string() + " holds no certificate");
  }
  return Ok();
}

std::string_view KeyTypeName(int type) { return type == EVP_PKEY_RSA ? "RSA" : "ECDSA"; }

// Loads one certificate chain and its key into the context. OpenSSL keeps one certificate
// per key type and replaces it silently when another of the same type comes, so `key_types`
// holds the types loaded so far and a second certificate of one is refused.
Status LoadServerCert(SSL_CTX* ctx, const ServerCertFiles& files, std::vector<int>& key_types) {
  const std::string cert_name = files.cert_file.string();
  const std::string key_name = files.key_file.string();
  if (!FileReadable(files.cert_file)) {
    return Error::InvalidArgument("server certificate " + cert_name + " is not a readable file");
  }
  if (!FileReadable(files.key_file)) {
    return Error::InvalidArgument("server key " + key_name + " is not a readable file");
  }
  BioPtr cert_bio(BIO_new_file(files.cert_file.c_str(), "r"));
  X509Ptr leaf(cert_bio ? PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!leaf) {
    return Error::InvalidArgument(WithErrors("cannot load server certificate " + cert_name));
  }
  // An encrypted key fails here with a message instead of prompting for a passphrase.
  static char no_passphrase[] = "";
  BioPtr key_bio(BIO_new_file(files.key_file.c_str(), "r"));
  EvpPkeyPtr key(key_bio ? PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, no_passphrase) : nullptr);
  if (!key) return Error::InvalidArgument(WithErrors("cannot load server key " + key_name));
  if (X509_check_private_key(leaf.get(), key.get()) != 1) {
    ERR_clear_error();
    return Error::InvalidArgument("server key " + key_name + " does not match certificate " + cert_name);
  }
  const int type = EVP_PKEY_get_base_id(key.get());
  if (type != EVP_PKEY_RSA && type != EVP_PKEY_EC) {
    return Error::InvalidArgument("server key " + key_name + " is neither RSA nor ECDSA");
  }
  if (std::find(key_types.begin(), key_types.end(), type) != key_types.end()) {
    return Error::InvalidArgument("server certificate " + cert_name + " has an " + std::string(KeyTypeName(type)) +
                                  " key like another certificate of the listener: one RSA and "
                                  "one ECDSA certificate at most");
  }
  if (SSL_CTX_use_certificate_chain_file(ctx, files.cert_file.c_str()) != 1) {
    return Error::InvalidArgument(WithErrors("cannot load server certificate " + cert_name));
  }
  if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    ERR_clear_error();
    return Error::InvalidArgument("server key " + key_name + " does not match certificate " + cert_name);
  }
  key_types.push_back(type);
  return Ok();
}

void FreeNameStack(STACK_OF(X509_NAME) * s) { sk_X509_NAME_pop_free(s, X509_NAME_free); }
using NameStackPtr = std::unique_ptr<STACK_OF(X509_NAME), internal::Deleter<STACK_OF(X509_NAME), FreeNameStack>>;

Status Configure(SSL_CTX* ctx, const ServerTlsSettings& s) {
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1) {
    return Error::Internal(WithErrors("cannot limit TLS versions"));
  }
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
  // Send the chain of the certificate file as it is. Otherwise OpenSSL rebuilds and verifies
  // the server's own chain against the device trust store on every handshake (~8 % of a
  // new connection's CPU in the benchmark), and may send a CA the operator never listed.
  SSL_CTX_set_mode(ctx, SSL_MODE_NO_AUTO_CHAIN);
  // Resumption from a server-side cache only: SSL_OP_NO_TICKET makes TLS 1.2 use session
  // ids and TLS 1.3 tickets hold just the id of the cached session. The one TLS 1.3 ticket
  // is not sent by the handshake but with the first response (QueueSessionTicket).
  if (s.session_cache < 0 || s.session_cache > kMaxSessionCache) {
    return Error::InvalidArgument("session_cache must be between 0 and " + std::to_string(kMaxSessionCache));
  }
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  if (s.session_cache == 0) {
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  } else {
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    SSL_CTX_sess_set_cache_size(ctx, s.session_cache);
    SSL_CTX_set_timeout(ctx, kSessionLifetimeSeconds);
  }
  SSL_CTX_set_num_tickets(ctx, 0);
  const char* ciphers = s.profile == TlsProfile::kCompatible ? kCompatibleTls12Ciphers : kModernTls12Ciphers;
  if (SSL_CTX_set_cipher_list(ctx, ciphers) != 1) {
    return Error::Internal(WithErrors("cannot set the TLS 1.2 cipher list"));
  }
  if (SSL_CTX_ctrl(ctx, SSL_CTRL_SET_GROUPS_LIST, 0, const_cast<char*>(kGroups)) != 1) {
    return Error::Internal(WithErrors("cannot set the ECDH groups"));
  }
  if (SSL_CTX_set_session_id_context(ctx, kSessionIdContext, sizeof kSessionIdContext - 1) != 1) {
    return Error::Internal(WithErrors("cannot set the session id context"));
  }

  std::vector<int> key_types;
  PG_TRY_STATUS(LoadServerCert(ctx, {s.cert_file, s.key_file}, key_types));
  for (const auto& more : s.more_certs) PG_TRY_STATUS(LoadServerCert(ctx, more, key_types));
  if (s.client_cert != ClientCertMode::kOff && s.trust_anchors.empty()) {
    return Error::InvalidArgument(std::string("client certificates are ") +
                                  std::string(ClientCertModeName(s.client_cert)) +
                                  " but no trust anchor bundle is configured");
  }
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  NameStackPtr ca_names(sk_X509_NAME_new_null());
  if (store == nullptr || !ca_names) return Error::Internal("cannot allocate the trust store");
  for (const auto& bundle : s.trust_anchors) {
    PG_TRY_STATUS(LoadTrustBundle(bundle, store, ca_names.get()));
  }

  if (VerifyFailureIndex() < 0) return Error::Internal("cannot allocate TLS ex_data index");
  switch (s.client_cert) {
    case ClientCertMode::kRequired:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, VerifyCallback);
      break;
    case ClientCertMode::kOptional:
      // A presented certificate is still verified; a bad one fails the handshake.
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, VerifyCallback);
      break;
    case ClientCertMode::kOff: SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr); break;
  }
  SSL_CTX_set_verify_depth(ctx, kVerifyDepth);
  if (s.client_cert != ClientCertMode::kOff) {
    if (VerifiedCacheIndex() < 0) return Error::Internal("cannot allocate TLS ex_data index");
    auto cache = std::make_unique<VerifiedCertCache>(kVerifiedCacheCapacity);
    if (SSL_CTX_set_ex_data(ctx, VerifiedCacheIndex(), cache.get()) != 1) {
      return Error::Internal(WithErrors("cannot attach the verified-certificate cache"));
    }
    SSL_CTX_set_cert_verify_callback(ctx, CachedVerify, cache.release());
    SSL_CTX_set_client_CA_list(ctx, ca_names.release());  // takes ownership
  }
  return Ok();
}

}  // namespace

Result<TlsProfile> ParseTlsProfile(std::string_view text) {
  if (text == "modern") return TlsProfile::kModern;
  if (text == "compatible") return TlsProfile::kCompatible;
  return Error::InvalidArgument("TLS profile '" + std::string(text) + "' must be modern or compatible");
}

std::string_view TlsProfileName(TlsProfile p) {
  switch (p) {
    case TlsProfile::kModern: return "modern";
    case TlsProfile::kCompatible: return "compatible";
  }
  return "unknown";
}

Result<ClientCertMode> ParseClientCertMode(std::string_view text) {
  if (text == "required") return ClientCertMode::kRequired;
  if (text == "optional") return ClientCertMode::kOptional;
  if (text == "off") return ClientCertMode::kOff;
  return Error::InvalidArgument("client certificate mode '" + std::string(text) +
                                "' must be required, optional or off");
}

std::string_view ClientCertModeName(ClientCertMode m) {
  switch (m) {
    case ClientCertMode::kRequired: return "required";
    case ClientCertMode::kOptional: return "optional";
    case ClientCertMode::kOff: return "off";
  }
  return "unknown";
}

Result<std::shared_ptr<boost::asio::ssl::context>> MakeServerContext(const ServerTlsSettings& s) {
  ERR_clear_error();
  std::shared_ptr<boost::asio::ssl::context> ctx;
  try {
    ctx = std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_server);
  } catch (const std::exception& e) {
    return Error::Internal(WithErrors(std::string("cannot create TLS context: ") + e.what()));
  }
  PG_TRY_STATUS(Configure(ctx->native_handle(), s));
  return ctx;
}

const VerifiedCertCache* VerifiedCertCacheOf(SSL_CTX* ctx) {
  const int index = VerifiedCacheIndex();
  if (ctx == nullptr || index < 0) return nullptr;
  return static_cast<const VerifiedCertCache*>(SSL_CTX_get_ex_data(ctx, index));
}

VerifyFailure GetVerifyFailure(SSL* ssl) {
  if (ssl == nullptr) return {};
  const int index = VerifyFailureIndex();
  if (index < 0) return {};
  const auto* record = static_cast<const VerifyFailure*>(SSL_get_ex_data(ssl, index));
  return record != nullptr ? *record : VerifyFailure{};
}

std::string_view HandshakeFailureName(HandshakeFailure f) {
  switch (f) {
    case HandshakeFailure::kNoCertificate: return "no_certificate";
    case HandshakeFailure::kUntrusted: return "untrusted";
    case HandshakeFailure::kExpired: return "expired";
    case HandshakeFailure::kRevoked: return "revoked";
    case HandshakeFailure::kOther: break;
  }
  return "other";
}

HandshakeFailure ClassifyHandshakeFailure(const VerifyFailure& verify, int ssl_reason) {
  switch (verify.error) {
    case X509_V_OK: break;
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
    case X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD:
    case X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD: return HandshakeFailure::kExpired;
    case X509_V_ERR_CERT_REVOKED: return HandshakeFailure::kRevoked;
    default: return HandshakeFailure::kUntrusted;  // the chain failed verification
  }
  if (ssl_reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE) return HandshakeFailure::kNoCertificate;
  return HandshakeFailure::kOther;
}

void QueueSessionTicket(SSL* ssl) {
  if (SSL_version(ssl) != TLS1_3_VERSION) return;
  if (SSL_CTX_get_session_cache_mode(SSL_get_SSL_CTX(ssl)) == SSL_SESS_CACHE_OFF) return;
  // A refused ticket only costs the phone a full handshake next time.
  if (SSL_new_session_ticket(ssl) != 1) ERR_clear_error();
}

}  // namespace provgate::tls
