#include "tls/cert_factory.hpp"
#include "base/file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <string>

#include "tls/testing/test_pki.hpp"

namespace provgate::tls {
namespace {

using testing::CaSpec;
using testing::DeviceSpec;
using testing::ParseCertPem;
using testing::SharedDeviceCa;

// Verifies `leaf` against `ca` at a fixed instant inside the validity window.
int VerifyAt(X509* leaf, X509* ca, std::int64_t when) {
  std::unique_ptr<X509_STORE, internal::Deleter<X509_STORE, X509_STORE_free>> store(X509_STORE_new());
  std::unique_ptr<X509_STORE_CTX, internal::Deleter<X509_STORE_CTX, X509_STORE_CTX_free>> ctx(X509_STORE_CTX_new());
  if (!store || !ctx || X509_STORE_add_cert(store.get(), ca) != 1 ||
      X509_STORE_CTX_init(ctx.get(), store.get(), leaf, nullptr) != 1) {
    return -1;
  }
  X509_STORE_CTX_set_time(ctx.get(), 0, static_cast<time_t>(when));
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_ANY);
  if (X509_verify_cert(ctx.get()) == 1) return X509_V_OK;
  return X509_STORE_CTX_get_error(ctx.get());
}

std::string Serial(X509* cert) {
  const ASN1_INTEGER* serial = X509_get0_serialNumber(cert);
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(serial)),
                     static_cast<size_t>(ASN1_STRING_length(serial)));
}

TEST(CertFactory, CreatesSelfSignedCaWithCaExtensions) {
  const auto ca = ParseCertPem(SharedDeviceCa().pem().cert_pem);
  ASSERT_TRUE(ca);
  EXPECT_EQ(X509_check_ca(ca.get()), 1);
  EXPECT_NE(X509_get_extension_flags(ca.get()) & EXFLAG_SS, 0u);
  EXPECT_NE(X509_get_key_usage(ca.get()) & KU_KEY_CERT_SIGN, 0u);
  EXPECT_NE(X509_get_key_usage(ca.get()) & KU_CRL_SIGN, 0u);
  EXPECT_NE(X509_get0_subject_key_id(ca.get()), nullptr);
  const int bc = X509_get_ext_by_NID(ca.get(), NID_basic_constraints, -1);
  ASSERT_GE(bc, 0);
  EXPECT_EQ(X509_EXTENSION_get_critical(X509_get_ext(ca.get(), bc)), 1);
  EXPECT_EQ(VerifyAt(ca.get(), ca.get(), testing::kValidFrom), X509_V_OK);
}

TEST(CertFactory, IssuesDeviceCertForClientAuth) {
  const auto pair = SharedDeviceCa().Issue(DeviceSpec({{"CN", "001565aabbcc"}}));
  ASSERT_TRUE(pair) << pair.error().message;
  const auto cert = ParseCertPem(pair->cert_pem);
  const auto ca = ParseCertPem(SharedDeviceCa().pem().cert_pem);
  ASSERT_TRUE(cert && ca);
  EXPECT_EQ(X509_check_ca(cert.get()), 0);
  EXPECT_EQ(X509_get_extended_key_usage(cert.get()), static_cast<uint32_t>(XKU_SSL_CLIENT));
  EXPECT_EQ(X509_get_key_usage(cert.get()), static_cast<uint32_t>(KU_DIGITAL_SIGNATURE));
  EXPECT_EQ(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(cert.get()), X509_get0_subject_key_id(ca.get())), 0);
  EXPECT_EQ(X509_get_signature_nid(cert.get()), NID_ecdsa_with_SHA256);
  EXPECT_EQ(VerifyAt(cert.get(), ca.get(), testing::kValidFrom + 1), X509_V_OK);
  EXPECT_NE(pair->key_pem.find("BEGIN PRIVATE KEY"), std::string::npos);
}

TEST(CertFactory, UsesFresh128BitSerials) {
  const auto a = ParseCertPem(SharedDeviceCa().Issue(DeviceSpec({{"CN", "a"}})).value().cert_pem);
  const auto b = ParseCertPem(SharedDeviceCa().Issue(DeviceSpec({{"CN", "a"}})).value().cert_pem);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(Serial(a.get()).size(), 16u);
  EXPECT_NE(Serial(a.get()), Serial(b.get()));
}

TEST(CertFactory, IssuesServerCertWithSans) {
  auto spec = testing::ServerSpec("prov.example.net");
  spec.san_uri = {"https://prov.example.net/"};
  spec.san_ip = {"192.0.2.7", "2001:db8::1"};
  const auto pair = SharedDeviceCa().Issue(spec);
  ASSERT_TRUE(pair) << pair.error().message;
  const auto cert = ParseCertPem(pair->cert_pem);
  ASSERT_TRUE(cert);
  EXPECT_EQ(X509_get_extended_key_usage(cert.get()), static_cast<uint32_t>(XKU_SSL_SERVER));
  EXPECT_EQ(X509_check_host(cert.get(), "prov.example.net", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "192.0.2.7", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "2001:db8::1", 0), 1);
}

TEST(CertFactory, SanValueWithCommaCannotInjectAName) {
  auto spec = DeviceSpec({{"CN", "x"}});
  spec.san_dns = {"a.example,DNS:evil.example"};
  const auto cert = ParseCertPem(SharedDeviceCa().Issue(spec).value().cert_pem);
  ASSERT_TRUE(cert);
  EXPECT_NE(X509_check_host(cert.get(), "evil.example", 0, 0, nullptr), 1);
}

TEST(CertFactory, IssuesRsaCertWithKeyEncipherment) {
  auto spec = DeviceSpec({{"CN", "001565aabbcc"}});
  spec.key_type = KeyType::kRsa2048;
  const auto pair = SharedDeviceCa().Issue(spec);
  ASSERT_TRUE(pair) << pair.error().message;
  const auto cert = ParseCertPem(pair->cert_pem);
  ASSERT_TRUE(cert);
  EXPECT_EQ(EVP_PKEY_get_base_id(X509_get0_pubkey(cert.get())), EVP_PKEY_RSA);
  EXPECT_EQ(EVP_PKEY_get_bits(X509_get0_pubkey(cert.get())), 2048);
  EXPECT_EQ(X509_get_key_usage(cert.get()), static_cast<uint32_t>(KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT));
}

TEST(CertFactory, IssuesIntermediateCaWhenAsked) {
  auto spec = CaSpec("Intermediate");
  const auto cert = ParseCertPem(SharedDeviceCa().Issue(spec).value().cert_pem);
  ASSERT_TRUE(cert);
  EXPECT_EQ(X509_check_ca(cert.get()), 1);
}

TEST(CertFactory, AllowsValidityInThePast) {
  auto spec = DeviceSpec({{"CN", "001565aabbcc"}});
  spec.not_before = testing::kLongAgo;
  spec.not_after = testing::kExpiredAt;
  const auto cert = ParseCertPem(SharedDeviceCa().Issue(spec).value().cert_pem);
  ASSERT_TRUE(cert);
  int day = 0;
  int sec = 0;
  std::unique_ptr<ASN1_TIME, internal::Deleter<ASN1_TIME, ASN1_TIME_free>> expected(
      ASN1_TIME_set(nullptr, static_cast<time_t>(testing::kExpiredAt)));
  ASSERT_EQ(ASN1_TIME_diff(&day, &sec, expected.get(), X509_get0_notAfter(cert.get())), 1);
  EXPECT_EQ(day, 0);
  EXPECT_EQ(sec, 0);
}

TEST(CertFactory, RejectsInvertedValidity) {
  auto spec = DeviceSpec({{"CN", "x"}});
  spec.not_after = spec.not_before;
  auto pair = SharedDeviceCa().Issue(spec);
  ASSERT_FALSE(pair);
  EXPECT_EQ(pair.error().code, ErrorCode::kInvalidArgument);
}

TEST(CertFactory, RejectsUnknownSubjectAttributeAndBadIp) {
  EXPECT_FALSE(SharedDeviceCa().Issue(DeviceSpec({{"XYZ", "x"}})));
  EXPECT_FALSE(SharedDeviceCa().Issue(DeviceSpec({{"C", "Germany"}})));
  auto spec = DeviceSpec({{"CN", "x"}});
  spec.san_ip = {"not-an-ip"};
  EXPECT_FALSE(SharedDeviceCa().Issue(spec));
}

TEST(CertFactory, WritesKeyFileWithMode0600) {
  testing::TempDir dir;
  const auto pair = SharedDeviceCa().Issue(DeviceSpec({{"CN", "x"}})).value();
  {
    std::ofstream pre(dir / "k.pem");  // an existing, wider file must be narrowed
  }
  ASSERT_EQ(::chmod((dir / "k.pem").c_str(), 0644), 0);
  ASSERT_TRUE(pair.WriteFiles(dir / "c.pem", dir / "k.pem"));
  struct stat st {};
  ASSERT_EQ(::stat((dir / "k.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::string text = ReadWholeFile(dir / "k.pem").value();
  EXPECT_EQ(text, pair.key_pem);
  EXPECT_FALSE(pair.WriteFiles(dir / "missing" / "c.pem", dir / "missing" / "k.pem"));
}

TEST(CertFactory, LoadsCaFromFilesAndIssues) {
  testing::TempDir dir;
  ASSERT_TRUE(SharedDeviceCa().pem().WriteFiles(dir / "ca.crt", dir / "ca.key"));
  auto loaded = CertAuthority::Load(dir / "ca.crt", dir / "ca.key");
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->pem().cert_pem, SharedDeviceCa().pem().cert_pem);
  const auto leaf = ParseCertPem(loaded->Issue(DeviceSpec({{"CN", "x"}})).value().cert_pem);
  const auto ca = ParseCertPem(SharedDeviceCa().pem().cert_pem);
  ASSERT_TRUE(leaf && ca);
  EXPECT_EQ(VerifyAt(leaf.get(), ca.get(), testing::kValidFrom + 1), X509_V_OK);
}

TEST(CertFactory, LoadRejectsMismatchedKeyNonCaAndMissingFiles) {
  testing::TempDir dir;
  const auto leaf = SharedDeviceCa().Issue(DeviceSpec({{"CN", "x"}})).value();
  ASSERT_TRUE(leaf.WriteFiles(dir / "leaf.crt", dir / "leaf.key"));
  ASSERT_TRUE(SharedDeviceCa().pem().WriteFiles(dir / "ca.crt", dir / "ca.key"));
  auto mismatch = CertAuthority::Load(dir / "ca.crt", dir / "leaf.key");
  ASSERT_FALSE(mismatch);
  EXPECT_NE(mismatch.error().message.find("does not match"), std::string::npos);
  auto not_ca = CertAuthority::Load(dir / "leaf.crt", dir / "leaf.key");
  ASSERT_FALSE(not_ca);
  EXPECT_NE(not_ca.error().message.find("not a CA"), std::string::npos);
  auto missing = CertAuthority::Load(dir / "nope.crt", dir / "ca.key");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("nope.crt"), std::string::npos);
}

}  // namespace
}  // namespace provgate::tls
