#include "tls/cert_factory.hpp"
#include "base/file.hpp"

#include <fcntl.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <limits>

#include "tls/internal/ossl.hpp"

namespace provgate::tls {
namespace {

using internal::Asn1StringPtr;
using internal::BignumPtr;
using internal::BioPtr;
using internal::EvpPkeyPtr;
using internal::GeneralNamePtr;
using internal::GeneralNamesPtr;
using internal::WithErrors;
using internal::X509ExtPtr;
using internal::X509Ptr;

Result<EvpPkeyPtr> GenerateKey(KeyType type) {
  // EVP_PKEY_Q_keygen directly: the EVP_EC_gen/EVP_RSA_gen macros expand to C casts.
  EvpPkeyPtr key(type == KeyType::kRsa2048 ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{2048})
                                           : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) return Error::Internal(WithErrors("key generation failed"));
  return key;
}

Result<internal::X509NamePtr> BuildName(const std::vector<std::pair<std::string, std::string>>& attrs) {
  internal::X509NamePtr name(X509_NAME_new());
  if (!name) return Error::Internal("out of memory");
  for (const auto& [field, value] : attrs) {
    const std::string short_name(internal::AttributeAlias(field));
    if (value.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()) ||
        X509_NAME_add_entry_by_txt(name.get(), short_name.c_str(), MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(value.data()), static_cast<int>(value.size()),
                                   -1, 0) != 1) {
      return Error::InvalidArgument(WithErrors("bad subject attribute " + field + "=" + value));
    }
  }
  return name;
}

Status AddConfExtension(X509* cert, X509V3_CTX* v3, int nid, const char* value) {
  X509ExtPtr ext(X509V3_EXT_conf_nid(nullptr, v3, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return Error::Internal(WithErrors(std::string("cannot add extension ") + OBJ_nid2sn(nid)));
  }
  return Ok();
}

Status PushName(GENERAL_NAMES* names, int type, const std::string& value) {
  GeneralNamePtr gn(GENERAL_NAME_new());
  Asn1StringPtr text(ASN1_IA5STRING_new());
  if (!gn || !text || value.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()) ||
      ASN1_STRING_set(text.get(), value.data(), static_cast<int>(value.size())) != 1) {
    return Error::Internal("out of memory");
  }
  GENERAL_NAME_set0_value(gn.get(), type, text.release());
  if (sk_GENERAL_NAME_push(names, gn.get()) <= 0) return Error::Internal("out of memory");
  static_cast<void>(gn.release());
  return Ok();
}

// Built from typed values, not an "DNS:a,URI:b" config string, so a comma in a value
// cannot inject another name.
Status AddSubjectAltNames(X509* cert, const CertSpec& spec) {
  if (spec.san_dns.empty() && spec.san_uri.empty() && spec.san_ip.empty()) return Ok();
  GeneralNamesPtr names(sk_GENERAL_NAME_new_null());
  if (!names) return Error::Internal("out of memory");
  for (const auto& dns : spec.san_dns) PG_TRY_STATUS(PushName(names.get(), GEN_DNS, dns));
  for (const auto& uri : spec.san_uri) PG_TRY_STATUS(PushName(names.get(), GEN_URI, uri));
  for (const auto& ip : spec.san_ip) {
    Asn1StringPtr addr(a2i_IPADDRESS(ip.c_str()));
    GeneralNamePtr gn(GENERAL_NAME_new());
    if (!addr || !gn) return Error::InvalidArgument(WithErrors("bad SAN IP address " + ip));
    GENERAL_NAME_set0_value(gn.get(), GEN_IPADD, addr.release());
    if (sk_GENERAL_NAME_push(names.get(), gn.get()) <= 0) return Error::Internal("out of memory");
    static_cast<void>(gn.release());
  }
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1) {
    return Error::Internal(WithErrors("cannot add subjectAltName"));
  }
  return Ok();
}

Status SetSerial(X509* cert) {
  // 16 random octets with the top bits fixed to 01: positive, never zero, always 16 octets
  // (within RFC 5280's 20), 126 bits of entropy.
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return Error::Internal(WithErrors("RAND_bytes failed"));
  bytes[0] = static_cast<unsigned char>((bytes[0] & 0x3f) | 0x40);
  BignumPtr bn(BN_bin2bn(bytes, sizeof bytes, nullptr));
  if (!bn || BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)) == nullptr) {
    return Error::Internal(WithErrors("cannot set serial number"));
  }
  return Ok();
}

Status SetValidity(X509* cert, const CertSpec& spec) {
  if (spec.not_after <= spec.not_before) {
    return Error::InvalidArgument("certificate not_after must be later than not_before");
  }
  if (ASN1_TIME_set(X509_getm_notBefore(cert), static_cast<std::time_t>(spec.not_before)) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(cert), static_cast<std::time_t>(spec.not_after)) == nullptr) {
    return Error::InvalidArgument(WithErrors("certificate validity out of range"));
  }
  return Ok();
}

std::string CertPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return {};
  return internal::BioContents(bio.get());
}

std::string KeyPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return {};
  }
  return internal::BioContents(bio.get());
}

// Builds and signs one certificate. `issuer`/`issuer_key` null means self-signed.
Result<X509Ptr> BuildCert(const CertSpec& spec, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key, bool is_ca) {
  X509Ptr cert(X509_new());
  if (!cert) return Error::Internal("out of memory");
  PG_TRY(internal::X509NamePtr subject, BuildName(spec.subject));
  if (X509_set_version(cert.get(), X509_VERSION_3) != 1 || X509_set_subject_name(cert.get(), subject.get()) != 1 ||
      X509_set_issuer_name(cert.get(), issuer != nullptr ? X509_get_subject_name(issuer) : subject.get()) != 1 ||
      X509_set_pubkey(cert.get(), key) != 1) {
    return Error::Internal(WithErrors("cannot fill certificate"));
  }
  PG_TRY_STATUS(SetSerial(cert.get()));
  PG_TRY_STATUS(SetValidity(cert.get(), spec));

  X509V3_CTX v3;
  X509V3_set_ctx(&v3, issuer != nullptr ? issuer : cert.get(), cert.get(), nullptr, nullptr, 0);
  if (is_ca) {
    PG_TRY_STATUS(AddConfExtension(cert.get(), &v3, NID_basic_constraints, "critical,CA:TRUE"));
    PG_TRY_STATUS(AddConfExtension(cert.get(), &v3, NID_key_usage, "critical,keyCertSign,cRLSign"));
  } else {
    PG_TRY_STATUS(AddConfExtension(cert.get(), &v3, NID_basic_constraints, "critical,CA:FALSE"));
    PG_TRY_STATUS(AddConfExtension(cert.get(), &v3, NID_key_usage,
                                   spec.key_type == KeyType::kRsa2048 ? "critical,digitalSignature,keyEncipherment"
                                                                      : "critical,digitalSignature"));
    PG_TRY_STATUS(AddConfExtension(cert.get(), &v3, NID_ext_key_usage, spec.server_auth ? "serverAuth" : "clientAuth"));
  }
  PG_TRY_STATUS(AddConfExtension(cert.get(), &v3, NID_subject_key_identifier, "hash"));
  if (issuer != nullptr) {
    PG_TRY_STATUS(AddConfExtension(cert.get(), &v3, NID_authority_key_identifier, "keyid,issuer"));
  }
  PG_TRY_STATUS(AddSubjectAltNames(cert.get(), spec));

  if (X509_sign(cert.get(), issuer_key != nullptr ? issuer_key : key, EVP_sha256()) <= 0) {
    return Error::Internal(WithErrors("signing failed"));
  }
  return cert;
}

Result<std::string> ReadFile(const std::filesystem::path& path, const char* what) {
  auto bytes = ReadWholeFile(path);
  if (!bytes) return Error::InvalidArgument(std::string("cannot read ") + what + " " + path.string());
  return bytes;
}

Status WriteWithMode(const std::filesystem::path& path, const std::string& bytes, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) return Error::Unavailable("cannot open " + path.string() + ": " + std::strerror(errno));
  // open() leaves the mode of an existing file alone; the key must never stay readable.
  Status status = Ok();
  if (::fchmod(fd, mode) != 0) {
    status = Error::Unavailable("cannot chmod " + path.string() + ": " + std::strerror(errno));
  }
  std::size_t done = 0;
  while (status && done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      status = Error::Unavailable("cannot write " + path.string() + ": " + std::strerror(errno));
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0 && status) {
    status = Error::Unavailable("cannot close " + path.string() + ": " + std::strerror(errno));
  }
  return status;
}

}  // namespace

Status PemPair::WriteFiles(const std::filesystem::path& cert, const std::filesystem::path& key) const {
  PG_TRY_STATUS(WriteWithMode(key, key_pem, 0600));
  return WriteWithMode(cert, cert_pem, 0644);
}

struct CertAuthority::Impl {
  X509Ptr cert;
  EvpPkeyPtr key;
  PemPair pem;
};

CertAuthority::CertAuthority(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CertAuthority::CertAuthority(CertAuthority&&) noexcept = default;
CertAuthority& CertAuthority::operator=(CertAuthority&&) noexcept = default;
CertAuthority::~CertAuthority() = default;

Result<CertAuthority> CertAuthority::Create(const CertSpec& spec) {
  ERR_clear_error();
  PG_TRY(EvpPkeyPtr key, GenerateKey(spec.key_type));
  PG_TRY(X509Ptr cert, BuildCert(spec, key.get(), nullptr, nullptr, /*is_ca=*/true));
  auto impl = std::make_unique<Impl>();
  impl->pem = PemPair{CertPem(cert.get()), KeyPem(key.get())};
  if (impl->pem.cert_pem.empty() || impl->pem.key_pem.empty()) {
    return Error::Internal(WithErrors("cannot encode CA"));
  }
  impl->cert = std::move(cert);
  impl->key = std::move(key);
  return CertAuthority(std::move(impl));
}

Result<CertAuthority> CertAuthority::Load(const std::filesystem::path& cert_path,
                                          const std::filesystem::path& key_path) {
  ERR_clear_error();
  PG_TRY(std::string cert_pem, ReadFile(cert_path, "CA certificate"));
  PG_TRY(std::string key_pem, ReadFile(key_path, "CA key"));
  BioPtr cert_bio = internal::MemBio(cert_pem);
  BioPtr key_bio = internal::MemBio(key_pem);
  if (!cert_bio || !key_bio) return Error::Internal("out of memory");
  X509Ptr cert(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return Error::InvalidArgument(WithErrors("no PEM certificate in " + cert_path.string()));
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (!key) return Error::InvalidArgument(WithErrors("no PEM private key in " + key_path.string()));
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return Error::InvalidArgument("CA key " + key_path.string() + " does not match " + cert_path.string());
  }
  if (X509_check_ca(cert.get()) == 0) {
    return Error::InvalidArgument(cert_path.string() + " is not a CA certificate");
  }
  auto impl = std::make_unique<Impl>();
  impl->pem = PemPair{CertPem(cert.get()), KeyPem(key.get())};
  impl->cert = std::move(cert);
  impl->key = std::move(key);
  return CertAuthority(std::move(impl));
}

Result<PemPair> CertAuthority::Issue(const CertSpec& spec) const {
  PG_TRY(EvpPkeyPtr key, GenerateKey(spec.key_type));
  PG_TRY(X509Ptr cert, BuildCert(spec, key.get(), impl_->cert.get(), impl_->key.get(), spec.is_ca));
  PemPair pair{CertPem(cert.get()), KeyPem(key.get())};
  if (pair.cert_pem.empty() || pair.key_pem.empty()) {
    return Error::Internal(WithErrors("cannot encode certificate"));
  }
  return pair;
}

const PemPair& CertAuthority::pem() const { return impl_->pem; }

}  // namespace provgate::tls
