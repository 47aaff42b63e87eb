#include "tls/server_context.hpp"

#include <gtest/gtest.h>
#include <openssl/pem.h>

#include <string>

#include "tls/testing/tls_fixture.hpp"

namespace provgate::tls {
namespace {

using testing::TlsFilesTest;

void ExpectInvalid(const Result<std::shared_ptr<boost::asio::ssl::context>>& ctx, const std::string& message_part) {
  ASSERT_FALSE(ctx);
  EXPECT_EQ(ctx.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(ctx.error().message.find(message_part), std::string::npos) << ctx.error().message;
}

TEST(TlsProfileName, ParsesAndNamesEveryProfile) {
  for (auto profile : {TlsProfile::kModern, TlsProfile::kCompatible}) {
    auto parsed = ParseTlsProfile(TlsProfileName(profile));
    ASSERT_TRUE(parsed);
    EXPECT_EQ(*parsed, profile);
  }
  EXPECT_FALSE(ParseTlsProfile("Modern"));
  EXPECT_FALSE(ParseTlsProfile("legacy"));
}

TEST(TlsClientCertMode, ParsesAndNamesEveryMode) {
  for (auto mode : {ClientCertMode::kRequired, ClientCertMode::kOptional, ClientCertMode::kOff}) {
    auto parsed = ParseClientCertMode(ClientCertModeName(mode));
    ASSERT_TRUE(parsed);
    EXPECT_EQ(*parsed, mode);
  }
  EXPECT_FALSE(ParseClientCertMode("Required"));
  EXPECT_FALSE(ParseClientCertMode(""));
}

using TlsServerContext = TlsFilesTest;

TEST_F(TlsServerContext, BuildsFromValidFiles) {
  auto ctx = MakeServerContext(Settings(ClientCertMode::kRequired));
  ASSERT_TRUE(ctx) << ctx.error().message;
  SSL_CTX* native = (*ctx)->native_handle();
  EXPECT_EQ(SSL_CTX_get_min_proto_version(native), TLS1_2_VERSION);
  EXPECT_EQ(SSL_CTX_get_max_proto_version(native), TLS1_3_VERSION);
  EXPECT_NE(SSL_CTX_get_options(native) & SSL_OP_NO_RENEGOTIATION, 0u);
  EXPECT_NE(SSL_CTX_get_options(native) & SSL_OP_NO_COMPRESSION, 0u);
  // Resumption state stays on the server: no sealed session tickets.
  EXPECT_NE(SSL_CTX_get_options(native) & SSL_OP_NO_TICKET, 0u);
  EXPECT_EQ(SSL_CTX_get_timeout(native), kSessionLifetimeSeconds);
  EXPECT_EQ(SSL_CTX_get_verify_mode(native), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT);
  EXPECT_EQ(SSL_CTX_get_verify_depth(native), 4);
  EXPECT_EQ(sk_X509_NAME_num(SSL_CTX_get_client_CA_list(native)), 1);
}

TEST_F(TlsServerContext, SetsVerifyModePerPolicy) {
  auto optional = MakeServerContext(Settings(ClientCertMode::kOptional));
  auto off = MakeServerContext(Settings(ClientCertMode::kOff));
  ASSERT_TRUE(optional && off);
  EXPECT_EQ(SSL_CTX_get_verify_mode((*optional)->native_handle()), SSL_VERIFY_PEER);
  EXPECT_EQ(SSL_CTX_get_verify_mode((*off)->native_handle()), SSL_VERIFY_NONE);
}

TEST_F(TlsServerContext, FailsOnMissingCertFile) {
  auto s = Settings(ClientCertMode::kRequired);
  s.cert_file = dir_ / "nope.crt";
  ExpectInvalid(MakeServerContext(s), "nope.crt");
}

TEST_F(TlsServerContext, FailsOnCertFileWithoutCertificate) {
  WriteText("garbage.crt", "not a certificate\n");
  auto s = Settings(ClientCertMode::kRequired);
  s.cert_file = dir_ / "garbage.crt";
  ExpectInvalid(MakeServerContext(s), "garbage.crt");
}

TEST_F(TlsServerContext, FailsOnMissingKeyFile) {
  auto s = Settings(ClientCertMode::kRequired);
  s.key_file = dir_ / "nope.key";
  ExpectInvalid(MakeServerContext(s), "nope.key");
}

TEST_F(TlsServerContext, FailsOnKeyMismatch) {
  auto other = testing::SharedServerCa().Issue(testing::ServerSpec("other.test"));
  ASSERT_TRUE(other);
  ASSERT_TRUE(other->WriteFiles(dir_ / "other.crt", dir_ / "other.key"));
  auto s = Settings(ClientCertMode::kRequired);
  s.key_file = dir_ / "other.key";
  ExpectInvalid(MakeServerContext(s), "does not match");
}

TEST_F(TlsServerContext, FailsOnEncryptedKeyWithoutAskingForAPassphrase) {
  const std::string& pem = testing::SharedServerPair().key_pem;
  internal::BioPtr in(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  internal::EvpPkeyPtr key(PEM_read_bio_PrivateKey(in.get(), nullptr, nullptr, nullptr));
  ASSERT_TRUE(key);
  internal::BioPtr out(BIO_new(BIO_s_mem()));
  static char passphrase[] = "secret passphrase";
  ASSERT_EQ(PEM_write_bio_PKCS8PrivateKey(out.get(), key.get(), EVP_aes_256_cbc(), nullptr, 0, nullptr, passphrase), 1);
  WriteText("encrypted.key", internal::BioContents(out.get()));
  auto s = Settings(ClientCertMode::kRequired);
  s.key_file = dir_ / "encrypted.key";
  ExpectInvalid(MakeServerContext(s), "cannot load server key");
}

TEST_F(TlsServerContext, FailsOnEmptyTrustBundle) {
  WriteText("empty.pem", "");
  auto s = Settings(ClientCertMode::kRequired);
  s.trust_anchors.push_back(dir_ / "empty.pem");
  ExpectInvalid(MakeServerContext(s), (dir_ / "empty.pem").string());
}

TEST_F(TlsServerContext, FailsOnTrustBundleWithoutCertificates) {
  WriteText("junk.pem", "-----BEGIN NOTHING-----\nAAAA\n-----END NOTHING-----\n");
  auto s = Settings(ClientCertMode::kOptional);
  s.trust_anchors = {dir_ / "junk.pem"};
  ExpectInvalid(MakeServerContext(s), "junk.pem");
}

TEST_F(TlsServerContext, FailsOnMissingTrustBundle) {
  auto s = Settings(ClientCertMode::kRequired);
  s.trust_anchors = {dir_ / "absent.pem"};
  ExpectInvalid(MakeServerContext(s), "absent.pem");
}

TEST_F(TlsServerContext, RequiresTrustAnchorsUnlessOff) {
  auto s = Settings(ClientCertMode::kRequired);
  s.trust_anchors.clear();
  ExpectInvalid(MakeServerContext(s), "no trust anchor");
  s.client_cert = ClientCertMode::kOff;
  EXPECT_TRUE(MakeServerContext(s));
}

TEST_F(TlsServerContext, SendsEveryAnchorOfABundleAsClientCaName) {
  auto second = CertAuthority::Create(testing::CaSpec("Second Device CA"));
  ASSERT_TRUE(second);
  WriteText("two.pem", testing::SharedDeviceCa().pem().cert_pem + second->pem().cert_pem);
  auto s = Settings(ClientCertMode::kRequired);
  s.trust_anchors = {dir_ / "two.pem"};
  auto ctx = MakeServerContext(s);
  ASSERT_TRUE(ctx) << ctx.error().message;
  EXPECT_EQ(sk_X509_NAME_num(SSL_CTX_get_client_CA_list((*ctx)->native_handle())), 2);
}

TEST(TlsVerifyFailure, IsEmptyForNullOrFreshConnection) {
  EXPECT_EQ(GetVerifyFailure(nullptr).reason, "");
  internal::SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  ASSERT_TRUE(ctx);
  internal::SslPtr ssl(SSL_new(ctx.get()));
  ASSERT_TRUE(ssl);
  EXPECT_EQ(GetVerifyFailure(ssl.get()).reason, "");
}

}  // namespace
}  // namespace provgate::tls
