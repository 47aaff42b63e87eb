#include "tls/cert_identity.hpp"

#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <string>
#include <vector>

#include "tls/testing/test_pki.hpp"

namespace provgate::tls {
namespace {

using testing::DeviceSpec;
using testing::ParseCertPem;
using testing::SharedDeviceCa;

internal::X509Ptr Issue(const CertSpec& spec) {
  auto pair = SharedDeviceCa().Issue(spec);
  EXPECT_TRUE(pair) << (pair ? "" : pair.error().message);
  if (!pair) return internal::X509Ptr(nullptr);
  return ParseCertPem(pair->cert_pem);
}

MacRule Rule(std::string_view spec) { return ParseMacRule(spec).value(); }

TEST(CertIdentity, ReadsMacFromCommonName) {
  auto cert = Issue(DeviceSpec({{"CN", "001565aabbcc"}, {"O", "Yealink"}}));
  auto id = ExtractIdentity(cert.get(), DefaultMacRules());
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(id->mac.str(), "001565aabbcc");
  EXPECT_EQ(id->matched_rule, "subject:CN");
  EXPECT_EQ(id->subject, "O=Yealink,CN=001565aabbcc");
  EXPECT_EQ(id->issuer, "O=provgate tests,CN=Test Device CA");
  EXPECT_EQ(id->not_after, testing::kValidUntil);
}

TEST(CertIdentity, ReadsMacFromSerialNumber) {
  auto cert = Issue(DeviceSpec({{"CN", "Polycom VVX 450"}, {"serialNumber", "64167f0a1b2c"}}));
  auto id = ExtractIdentity(cert.get(), DefaultMacRules());
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(id->mac.str(), "64167f0a1b2c");
  EXPECT_EQ(id->matched_rule, "subject:serialNumber");
}

TEST(CertIdentity, ReadsCiscoStateAttribute) {
  // Cisco SPA/MPP: OU=<product>, L=<serial>, S=<mac>; "S" is OpenSSL's ST.
  auto cert = Issue(DeviceSpec({{"OU", "CP-8841-3PCC"}, {"L", "88012BA01234"}, {"S", "000e08abcdef"}}));
  auto id = ExtractIdentity(cert.get(), DefaultMacRules());
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(id->mac.str(), "000e08abcdef");
  EXPECT_EQ(id->matched_rule, "subject:ST:vendor=cisco");
  EXPECT_EQ(id->subject, "ST=000e08abcdef,L=88012BA01234,OU=CP-8841-3PCC");
}

TEST(CertIdentity, ReadsEveryEntryOfARepeatedAttribute) {
  auto cert = Issue(DeviceSpec({{"OU", "phones"}, {"OU", "00:15:65:12:34:56"}}));
  auto id = ExtractIdentity(cert.get(), {Rule("subject:OU")});
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(id->mac.str(), "001565123456");
}

TEST(CertIdentity, ReadsSanDnsWithPrefix) {
  auto spec = DeviceSpec({{"CN", "Cisco phone"}});
  spec.san_dns = {"phone.example.net", "SEP001565AABBCC"};
  auto cert = Issue(spec);
  auto id = ExtractIdentity(cert.get(), {Rule("san:dns:prefix=sep")});
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(id->mac.str(), "001565aabbcc");
  EXPECT_EQ(id->matched_rule, "san:dns:prefix=sep");
}

TEST(CertIdentity, ReadsSanUriWithUrnPrefix) {
  auto spec = DeviceSpec({{"O", "Acme"}});
  spec.san_uri = {"https://example.net/", "URN:DEV:MAC:0015.65aa.bbcc"};
  auto cert = Issue(spec);
  auto id = ExtractIdentity(cert.get(), DefaultMacRules());
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(id->mac.str(), "001565aabbcc");
  EXPECT_EQ(id->matched_rule, "san:uri:prefix=urn:dev:mac:");
}

TEST(CertIdentity, AcceptsAnyCaseAndSeparatorStyle) {
  for (const char* cn : {"001565AABBCC", "00:15:65:AA:BB:CC", "00-15-65-aa-bb-cc", "0015.65AA.bbcc"}) {
    auto cert = Issue(DeviceSpec({{"CN", cn}}));
    auto id = ExtractIdentity(cert.get(), DefaultMacRules());
    ASSERT_TRUE(id) << cn << ": " << id.error().message;
    EXPECT_EQ(id->mac.str(), "001565aabbcc") << cn;
  }
}

TEST(CertIdentity, FirstMatchingRuleWins) {
  auto cert = Issue(DeviceSpec({{"CN", "001565000001"}, {"serialNumber", "001565000002"}}));
  auto cn_first = ExtractIdentity(cert.get(), {Rule("subject:CN"), Rule("subject:serialNumber")});
  auto sn_first = ExtractIdentity(cert.get(), {Rule("subject:serialNumber"), Rule("subject:CN")});
  ASSERT_TRUE(cn_first && sn_first);
  EXPECT_EQ(cn_first->mac.str(), "001565000001");
  EXPECT_EQ(sn_first->mac.str(), "001565000002");
}

TEST(CertIdentity, SkipsRulesWhoseValueIsNotAMac) {
  auto cert = Issue(DeviceSpec({{"CN", "Yealink T54W"}, {"serialNumber", "805ec0123456"}}));
  auto id = ExtractIdentity(cert.get(), DefaultMacRules());
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(id->matched_rule, "subject:serialNumber");
}

TEST(CertIdentity, PrefixMustBePresent) {
  auto spec = DeviceSpec({{"CN", "x"}});
  spec.san_dns = {"001565aabbcc"};
  auto cert = Issue(spec);
  auto id = ExtractIdentity(cert.get(), {Rule("san:dns:prefix=SEP")});
  ASSERT_FALSE(id);
  EXPECT_EQ(id.error().code, ErrorCode::kNotFound);
}

TEST(CertIdentity, ReturnsNotFoundWhenNoRuleMatches) {
  auto cert =
      Issue(DeviceSpec({{"CN", "generic"}, {"OU", "cisco.com"}, {"L", "ciscogeneric"}, {"ST", "ciscogeneric"}}));
  auto id = ExtractIdentity(cert.get(), DefaultMacRules());
  ASSERT_FALSE(id);
  EXPECT_EQ(id.error().code, ErrorCode::kNotFound);
}

TEST(CertIdentity, RejectsEmbeddedNulInSubject) {
  // A C-string reader would see "001565aabbcc" here.
  auto cert = Issue(DeviceSpec({{"CN", std::string("001565aabbcc\0.evil", 18)}}));
  auto id = ExtractIdentity(cert.get(), DefaultMacRules());
  ASSERT_FALSE(id);
  EXPECT_EQ(id.error().code, ErrorCode::kNotFound);
}

TEST(CertIdentity, RejectsEmbeddedNulInSan) {
  auto spec = DeviceSpec({{"O", "x"}});
  spec.san_dns = {std::string("001565aabbcc\0.example.net", 25)};
  spec.san_uri = {std::string("urn:dev:mac:001565aabbcc\0", 25)};
  auto cert = Issue(spec);
  auto id = ExtractIdentity(cert.get(), DefaultMacRules());
  ASSERT_FALSE(id);
  EXPECT_EQ(id.error().code, ErrorCode::kNotFound);
}

TEST(CertIdentity, RejectsNullCertificate) {
  auto id = ExtractIdentity(nullptr, DefaultMacRules());
  ASSERT_FALSE(id);
  EXPECT_EQ(id.error().code, ErrorCode::kInvalidArgument);
}

TEST(CertIdentity, HashesCertificateAndSubjectPublicKeyInfo) {
  auto cert = Issue(DeviceSpec({{"CN", "001565aabbcc"}}));
  auto id = ExtractIdentity(cert.get(), DefaultMacRules());
  ASSERT_TRUE(id) << id.error().message;

  unsigned char* der = nullptr;
  int n = i2d_X509(cert.get(), &der);
  ASSERT_GT(n, 0);
  EXPECT_EQ(id->cert_sha256, internal::Sha256Hex(der, static_cast<size_t>(n)));
  OPENSSL_free(der);

  der = nullptr;
  n = i2d_PUBKEY(X509_get0_pubkey(cert.get()), &der);
  ASSERT_GT(n, 0);
  EXPECT_EQ(id->spki_sha256, internal::Sha256Hex(der, static_cast<size_t>(n)));
  OPENSSL_free(der);
  EXPECT_EQ(id->spki_sha256.size(), 64u);
  EXPECT_NE(id->spki_sha256, id->cert_sha256);
}

TEST(CertIdentity, SubjectOneLineIsRfc2253AndEmptyForNull) {
  auto cert = Issue(DeviceSpec({{"CN", "a,b"}, {"O", "x"}}));
  EXPECT_EQ(SubjectOneLine(cert.get()), "O=x,CN=a\\,b");
  EXPECT_EQ(SubjectOneLine(nullptr), "");
}

TEST(MacRule, ParsesSubjectAttribute) {
  auto rule = ParseMacRule("subject:CN");
  ASSERT_TRUE(rule) << rule.error().message;
  EXPECT_EQ(rule->source, MacSource::kSubjectAttribute);
  EXPECT_EQ(rule->attribute, "CN");
  EXPECT_EQ(rule->prefix, "");
}

TEST(MacRule, CanonicalisesLongNamesOidsAndCiscoAlias) {
  EXPECT_EQ(Rule("subject:commonName").attribute, "CN");
  EXPECT_EQ(Rule("subject:2.5.4.5").attribute, "serialNumber");
  EXPECT_EQ(Rule("subject:S").attribute, "ST");
  EXPECT_EQ(Rule("subject:1.3.6.1.4.1.99999.1").attribute, "1.3.6.1.4.1.99999.1");
}

TEST(MacRule, ParsesPrefixContainingColons) {
  auto rule = Rule("san:uri:prefix=urn:dev:mac:");
  EXPECT_EQ(rule.source, MacSource::kSanUri);
  EXPECT_EQ(rule.prefix, "urn:dev:mac:");
  EXPECT_EQ(Rule("subject:ST:prefix=SEP").prefix, "SEP");
}

TEST(MacRule, ParsesVendorOption) {
  auto rule = Rule("SAN:DNS:vendor=cisco:prefix=SEP");
  EXPECT_EQ(rule.source, MacSource::kSanDns);
  EXPECT_EQ(rule.vendor, "cisco");
  EXPECT_EQ(rule.prefix, "SEP");
  EXPECT_EQ(rule.Describe(), "san:dns:vendor=cisco:prefix=SEP");
}

TEST(MacRule, DescribeRoundTrips) {
  for (const auto& rule : DefaultMacRules()) {
    auto again = ParseMacRule(rule.Describe());
    ASSERT_TRUE(again) << rule.Describe() << ": " << again.error().message;
    EXPECT_EQ(again->Describe(), rule.Describe());
  }
}

TEST(MacRule, RejectsBadSpecs) {
  struct Case {
    const char* spec;
    const char* message_part;
  };
  const Case cases[] = {
      {"", "must look like"},
      {"CN", "must look like"},
      {"issuer:CN", "unknown source 'issuer'"},
      {"subject:", "needs an attribute"},
      {"subject:NoSuchAttribute", "unknown subject attribute 'NoSuchAttribute'"},
      {"subject:UNDEF", "unknown subject attribute"},
      {"subject:C N", "unknown subject attribute"},
      {"subject:1.2.x", "unknown subject attribute"},
      {"san:ip", "unknown SAN type 'ip'"},
      {"san:", "unknown SAN type"},
      {"subject:CN:suffix=x", "unexpected 'suffix=x'"},
      {"subject:CN:prefix=", "prefix must be"},
      {"subject:CN:prefix=a b", "prefix must be"},
      {"subject:CN:vendor=:prefix=x", "vendor must be"},
      {"subject:CN:vendor=a:vendor=b", "unexpected"},
      {"subject:CN:", "has an empty option"},
      {"san:uri:", "has an empty option"},
      {"san:dns:vendor=x:", "has an empty option"},
      {"subject:CN::prefix=x", "unexpected ':prefix=x'"},
  };
  for (const auto& c : cases) {
    auto rule = ParseMacRule(c.spec);
    ASSERT_FALSE(rule) << c.spec;
    EXPECT_EQ(rule.error().code, ErrorCode::kInvalidArgument) << c.spec;
    EXPECT_NE(rule.error().message.find(c.message_part), std::string::npos) << c.spec << " -> " << rule.error().message;
  }
}

// Found by mac_rule_fuzz: OpenSSL reads empty arcs as 0, so "2....2..3" became a longer
// canonical OID that no longer parsed back.
TEST(MacRule, RejectsMalformedDottedOid) {
  for (const char* spec :
       {"subject:2....2..3.15", "subject:2.5.", "subject:.2.5", "subject:2.05.4", "subject:2", "subject:2.5.4.3x"}) {
    auto rule = ParseMacRule(spec);
    ASSERT_FALSE(rule) << spec;
    EXPECT_NE(rule.error().message.find("unknown subject attribute"), std::string::npos) << spec;
  }
  EXPECT_TRUE(ParseMacRule("subject:0.9.2342.19200300.100.1.1"));
}

TEST(MacRule, RejectsOverlongAttribute) { EXPECT_FALSE(ParseMacRule("subject:1.2." + std::string(200, '1'))); }

}  // namespace
}  // namespace provgate::tls
