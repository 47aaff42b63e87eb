// In-process X.509 issuance (OpenSSL APIs, no CLI): the demo CA, server certificates, device
// certificates for tests and the benchmark's 100 000 simulated phones.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/result.hpp"

namespace provgate::tls {

enum class KeyType { kEcdsaP256, kRsa2048 };

struct CertSpec {
  // Subject attributes in order, by short name: {{"CN","001565aabbcc"}, {"O","Demo"}}.
  std::vector<std::pair<std::string, std::string>> subject;
  std::vector<std::string> san_dns;
  std::vector<std::string> san_uri;
  std::vector<std::string> san_ip;
  KeyType key_type = KeyType::kEcdsaP256;
  std::int64_t not_before = 0;  // unix seconds
  std::int64_t not_after = 0;   // unix seconds
  bool is_ca = false;
  bool server_auth = false;  // extendedKeyUsage serverAuth (else clientAuth for leaves)
};

struct PemPair {
  std::string cert_pem;
  std::string key_pem;
  Status WriteFiles(const std::filesystem::path& cert, const std::filesystem::path& key) const;  // key 0600
};

class CertAuthority {
 public:
  // A new self-signed CA.
  static Result<CertAuthority> Create(const CertSpec& spec);
  static Result<CertAuthority> Load(const std::filesystem::path& cert, const std::filesystem::path& key);
  CertAuthority(CertAuthority&&) noexcept;
  CertAuthority& operator=(CertAuthority&&) noexcept;
  ~CertAuthority();

  // Issues a certificate signed by this CA with a fresh key. Thread-safe.
  Result<PemPair> Issue(const CertSpec& spec) const;
  const PemPair& pem() const;

 private:
  struct Impl;
  explicit CertAuthority(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace provgate::tls
