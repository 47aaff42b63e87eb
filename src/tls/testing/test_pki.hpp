// Test-only PKI helpers: fixed validity windows, a shared demo CA, PEM parsing and a
// scratch directory. Header-only so any test or benchmark target can include it.
#pragma once

#include <openssl/pem.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "tls/cert_factory.hpp"
#include "tls/internal/ossl.hpp"

namespace provgate::tls::testing {

// Fixed instants so tests never read the clock to build certificates.
constexpr std::int64_t kLongAgo = 1262304000;     // 2010-01-01
constexpr std::int64_t kValidFrom = 1577836800;   // 2020-01-01
constexpr std::int64_t kExpiredAt = 1609459200;   // 2021-01-01
constexpr std::int64_t kValidUntil = 4102444800;  // 2100-01-01

inline CertSpec CaSpec(std::string cn) {
  CertSpec spec;
  spec.subject = {{"CN", std::move(cn)}, {"O", "provgate tests"}};
  spec.not_before = kLongAgo;
  spec.not_after = kValidUntil;
  spec.is_ca = true;
  return spec;
}

inline CertSpec DeviceSpec(std::vector<std::pair<std::string, std::string>> subject) {
  CertSpec spec;
  spec.subject = std::move(subject);
  spec.not_before = kValidFrom;
  spec.not_after = kValidUntil;
  return spec;
}

inline CertSpec ServerSpec(std::string host) {
  CertSpec spec;
  spec.subject = {{"CN", host}};
  spec.san_dns = {std::move(host)};
  spec.not_before = kValidFrom;
  spec.not_after = kValidUntil;
  spec.server_auth = true;
  return spec;
}

// A device CA created once per test process (key generation is the slow part).
inline const CertAuthority& SharedDeviceCa() {
  static const CertAuthority ca = CertAuthority::Create(CaSpec("Test Device CA")).value();
  return ca;
}

inline internal::X509Ptr ParseCertPem(const std::string& pem) {
  internal::BioPtr bio = internal::MemBio(pem);
  if (!bio) return internal::X509Ptr(nullptr);
  return internal::X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

// A fresh directory removed with its contents on destruction.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "provgate-tls-XXXXXX").string();
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

}  // namespace provgate::tls::testing
