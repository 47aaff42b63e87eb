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

#include "tls/ossl_handles.hpp"

namespace provgate::tls::internal {

// The owning handles (tls/ossl_handles.hpp), unqualified here as before.
using namespace provgate::tls::ossl;

inline void FreeOpensslBytes(unsigned char* p) { OPENSSL_free(p); }
using OsslBytesPtr = std::unique_ptr<unsigned char, Deleter<unsigned char, FreeOpensslBytes>>;

inline void FreeX509InfoStack(STACK_OF(X509_INFO) * s) { sk_X509_INFO_pop_free(s, X509_INFO_free); }
using X509InfoStackPtr = std::unique_ptr<STACK_OF(X509_INFO), Deleter<STACK_OF(X509_INFO), FreeX509InfoStack>>;

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
inline std::string_view AttributeAlias(std::string_view name) { return name == "S" ? std::string_view("ST") : name; }

}  // namespace provgate::tls::internal
