// Private to the tls module: owning handles for OpenSSL objects and small helpers that
// avoid OpenSSL's cast-heavy convenience macros (our warning flags reject old-style casts).
#pragma once

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace provgate::tls::internal {

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const noexcept { Free(p); }
};

using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using X509NamePtr = std::unique_ptr<X509_NAME, Deleter<X509_NAME, X509_NAME_free>>;
using X509ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION, X509_EXTENSION_free>>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using BignumPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using Asn1ObjectPtr = std::unique_ptr<ASN1_OBJECT, Deleter<ASN1_OBJECT, ASN1_OBJECT_free>>;
using Asn1StringPtr = std::unique_ptr<ASN1_STRING, Deleter<ASN1_STRING, ASN1_STRING_free>>;
using Asn1TimePtr = std::unique_ptr<ASN1_TIME, Deleter<ASN1_TIME, ASN1_TIME_free>>;
using GeneralNamePtr = std::unique_ptr<GENERAL_NAME, Deleter<GENERAL_NAME, GENERAL_NAME_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, Deleter<GENERAL_NAMES, GENERAL_NAMES_free>>;
using SslCtxPtr = std::unique_ptr<SSL_CTX, Deleter<SSL_CTX, SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, Deleter<SSL, SSL_free>>;

inline void FreeOpensslBytes(unsigned char* p) { OPENSSL_free(p); }
using OsslBytesPtr = std::unique_ptr<unsigned char, Deleter<unsigned char, FreeOpensslBytes>>;

inline void FreeX509InfoStack(STACK_OF(X509_INFO) * s) { sk_X509_INFO_pop_free(s, X509_INFO_free); }
using X509InfoStackPtr =
    std::unique_ptr<STACK_OF(X509_INFO), Deleter<STACK_OF(X509_INFO), FreeX509InfoStack>>;

// Contents of a memory BIO (BIO_get_mem_data without its cast).
inline std::string BioContents(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_ctrl(bio, BIO_CTRL_INFO, 0, &data);
  if (n <= 0 || data == nullptr) return {};
  return std::string(data, static_cast<std::size_t>(n));
}

// A read-only memory BIO over `bytes`; the caller keeps `bytes` alive.
inline BioPtr MemBio(std::string_view bytes) {
  if (bytes.size() > static_cast<std::size_t>(INT32_MAX)) return BioPtr(nullptr);
  return BioPtr(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
}

// Drains this thread's OpenSSL error queue into one line ("" when empty).
inline std::string DrainErrors() {
  std::string out;
  unsigned long e = 0;
  while ((e = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

// Appends ": <openssl errors>" when the queue holds any, and clears it.
inline std::string WithErrors(std::string message) {
  std::string errors = DrainErrors();
  if (!errors.empty()) message += ": " + errors;
  return message;
}

inline std::string Hex(const unsigned char* p, std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[p[i] >> 4]);
    out.push_back(kDigits[p[i] & 0x0f]);
  }
  return out;
}

// Hex SHA-256 of `n` bytes, "" on failure.
inline std::string Sha256Hex(const unsigned char* p, std::size_t n) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(p, n, md, &len, EVP_sha256(), nullptr) != 1) return {};
  return Hex(md, len);
}

// Unix seconds of an ASN.1 time, nullopt when it cannot be read.
inline std::optional<std::int64_t> UnixTime(const ASN1_TIME* t) {
  if (t == nullptr) return std::nullopt;
  std::tm tm{};
  if (ASN1_TIME_to_tm(t, &tm) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  return static_cast<std::int64_t>(timegm(&tm));
}

// Cisco documents its device-certificate subject as "S=<mac>"; OpenSSL knows that
// attribute (stateOrProvinceName) as "ST", so both spellings are accepted.
inline std::string_view AttributeAlias(std::string_view name) {
  return name == "S" ? std::string_view("ST") : name;
}

}  // namespace provgate::tls::internal
