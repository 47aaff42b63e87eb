// End-to-end handshakes against MakeServerContext, in memory (no sockets).
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <string>

#include "tls/cert_identity.hpp"
#include "tls/server_context.hpp"
#include "tls/testing/tls_fixture.hpp"
#include "tls/verified_cache.hpp"

namespace provgate::tls {
namespace {

using testing::DeviceSpec;
using testing::RunMemoryHandshake;

class TlsHandshake : public testing::TlsFilesTest {
 protected:
  static PemPair Device(const CertAuthority& ca, std::string cn, std::int64_t not_before, std::int64_t not_after) {
    auto spec = DeviceSpec({{"CN", std::move(cn)}, {"O", "Yealink"}});
    spec.not_before = not_before;
    spec.not_after = not_after;
    return ca.Issue(spec).value();
  }
  static PemPair ValidDevice() {
    return Device(testing::SharedDeviceCa(), "80:5E:C0:12:34:56", testing::kValidFrom, testing::kValidUntil);
  }
};

TEST_F(TlsHandshake, RequiredModeAcceptsValidDeviceCertAndYieldsMac) {
  auto server = Server(ClientCertMode::kRequired);
  const PemPair device = ValidDevice();
  auto client = Client(&device);
  auto out = RunMemoryHandshake(server->native_handle(), client.get());
  ASSERT_TRUE(out.ok) << out.server_error << " | " << out.client_error;
  EXPECT_EQ(SSL_get_verify_result(out.server.get()), X509_V_OK);
  X509* peer = SSL_get0_peer_certificate(out.server.get());
  ASSERT_NE(peer, nullptr);
  auto id = ExtractIdentity(peer, DefaultMacRules());
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(id->mac.str(), "805ec0123456");
  EXPECT_EQ(GetVerifyFailure(out.server.get()).reason, "");
  EXPECT_EQ(std::string(SSL_get_version(out.server.get())), "TLSv1.3");
}

// The demo's one CA signs the server and the devices, so it is also a trust anchor: the
// server must still send only what its certificate file holds (here the leaf), not a chain
// OpenSSL builds, and verifies, from the trust store on every handshake.
TEST_F(TlsHandshake, ServerSendsExactlyTheChainOfItsCertificateFile) {
  WriteText("anchors.pem", testing::SharedDeviceCa().pem().cert_pem + testing::SharedServerCa().pem().cert_pem);
  ServerTlsSettings settings = Settings(ClientCertMode::kRequired);
  settings.trust_anchors = {dir_ / "anchors.pem"};
  auto server = MakeServerContext(settings);
  ASSERT_TRUE(server) << server.error().message;
  const PemPair device = ValidDevice();
  auto client = Client(&device);
  auto out = RunMemoryHandshake((*server)->native_handle(), client.get());
  ASSERT_TRUE(out.ok) << out.server_error << " | " << out.client_error;
  EXPECT_EQ(sk_X509_num(SSL_get_peer_cert_chain(out.client.get())), 1);
}

TEST_F(TlsHandshake, RequiredModeRejectsClientWithoutCert) {
  auto server = Server(ClientCertMode::kRequired);
  auto client = Client(nullptr);
  auto out = RunMemoryHandshake(server->native_handle(), client.get());
  EXPECT_FALSE(out.ok);
  EXPECT_NE(out.server_error.find("peer did not return a certificate"), std::string::npos) << out.server_error;
  EXPECT_EQ(ClassifyHandshakeFailure(GetVerifyFailure(out.server.get()), ERR_GET_REASON(out.server_error_code)),
            HandshakeFailure::kNoCertificate);
}

TEST_F(TlsHandshake, RejectsCertFromUntrustedCaAndRecordsReason) {
  auto rogue = CertAuthority::Create(testing::CaSpec("Rogue CA"));
  ASSERT_TRUE(rogue);
  const PemPair device = Device(*rogue, "805ec0123456", testing::kValidFrom, testing::kValidUntil);
  auto server = Server(ClientCertMode::kRequired);
  auto client = Client(&device);
  auto out = RunMemoryHandshake(server->native_handle(), client.get());
  EXPECT_FALSE(out.ok);
  const VerifyFailure failure = GetVerifyFailure(out.server.get());
  EXPECT_EQ(failure.reason, "unable to get local issuer certificate");
  EXPECT_EQ(failure.subject, "O=Yealink,CN=805ec0123456");
  EXPECT_EQ(ClassifyHandshakeFailure(failure, ERR_GET_REASON(out.server_error_code)), HandshakeFailure::kUntrusted);
}

TEST_F(TlsHandshake, RejectsExpiredCertWithExpiredReason) {
  const PemPair device = Device(testing::SharedDeviceCa(), "805ec0123456", testing::kLongAgo, testing::kExpiredAt);
  auto server = Server(ClientCertMode::kRequired);
  auto client = Client(&device);
  auto out = RunMemoryHandshake(server->native_handle(), client.get());
  EXPECT_FALSE(out.ok);
  const VerifyFailure failure = GetVerifyFailure(out.server.get());
  EXPECT_NE(failure.reason.find("expired"), std::string::npos) << failure.reason;
  EXPECT_EQ(failure.subject, "O=Yealink,CN=805ec0123456");
  EXPECT_EQ(ClassifyHandshakeFailure(failure, ERR_GET_REASON(out.server_error_code)), HandshakeFailure::kExpired);
}

// The metric label of a failed handshake comes from a fixed set, whatever the verify error
// or OpenSSL reason.
TEST(HandshakeFailureKind, MapsVerifyErrorsAndReasonsToAFixedSet) {
  const struct {
    int verify_error;
    int ssl_reason;
    HandshakeFailure want;
  } cases[] = {
      {X509_V_ERR_CERT_HAS_EXPIRED, 0, HandshakeFailure::kExpired},
      {X509_V_ERR_CERT_NOT_YET_VALID, 0, HandshakeFailure::kExpired},
      {X509_V_ERR_CERT_REVOKED, 0, HandshakeFailure::kRevoked},
      {X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, 0, HandshakeFailure::kUntrusted},
      {X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, 0, HandshakeFailure::kUntrusted},
      {X509_V_ERR_CERT_SIGNATURE_FAILURE, 0, HandshakeFailure::kUntrusted},
      {X509_V_ERR_INVALID_PURPOSE, 0, HandshakeFailure::kUntrusted},
      {X509_V_OK, SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE, HandshakeFailure::kNoCertificate},
      {X509_V_OK, SSL_R_UNSUPPORTED_PROTOCOL, HandshakeFailure::kOther},
      {X509_V_OK, 0, HandshakeFailure::kOther},
  };
  for (const auto& c : cases) {
    VerifyFailure vf;
    vf.error = c.verify_error;
    EXPECT_EQ(ClassifyHandshakeFailure(vf, c.ssl_reason), c.want) << c.verify_error << " " << c.ssl_reason;
  }
  EXPECT_EQ(HandshakeFailureName(HandshakeFailure::kNoCertificate), "no_certificate");
  EXPECT_EQ(HandshakeFailureName(HandshakeFailure::kUntrusted), "untrusted");
  EXPECT_EQ(HandshakeFailureName(HandshakeFailure::kExpired), "expired");
  EXPECT_EQ(HandshakeFailureName(HandshakeFailure::kRevoked), "revoked");
  EXPECT_EQ(HandshakeFailureName(HandshakeFailure::kOther), "other");
}

TEST_F(TlsHandshake, OptionalModeAcceptsClientWithoutCert) {
  auto server = Server(ClientCertMode::kOptional);
  auto client = Client(nullptr);
  auto out = RunMemoryHandshake(server->native_handle(), client.get());
  ASSERT_TRUE(out.ok) << out.server_error << " | " << out.client_error;
  EXPECT_EQ(SSL_get0_peer_certificate(out.server.get()), nullptr);
}

TEST_F(TlsHandshake, OptionalModeStillRejectsInvalidPresentedCert) {
  const PemPair device = Device(testing::SharedDeviceCa(), "805ec0123456", testing::kLongAgo, testing::kExpiredAt);
  auto server = Server(ClientCertMode::kOptional);
  auto client = Client(&device);
  auto out = RunMemoryHandshake(server->native_handle(), client.get());
  EXPECT_FALSE(out.ok);
  EXPECT_NE(GetVerifyFailure(out.server.get()).reason.find("expired"), std::string::npos);
}

TEST_F(TlsHandshake, OffModeDoesNotAskForACert) {
  auto server = Server(ClientCertMode::kOff);
  const PemPair device = ValidDevice();
  auto client = Client(&device);
  auto out = RunMemoryHandshake(server->native_handle(), client.get());
  ASSERT_TRUE(out.ok) << out.server_error << " | " << out.client_error;
  EXPECT_EQ(SSL_get0_peer_certificate(out.server.get()), nullptr);
}

TEST_F(TlsHandshake, RefusesTls11Client) {
  auto server = Server(ClientCertMode::kOptional);
  // SECLEVEL=0 lets the client really offer TLS 1.1, so the refusal is the server's.
  testing::ClientOptions old;
  old.min_version = TLS1_1_VERSION;
  old.max_version = TLS1_1_VERSION;
  old.cipher_list = "DEFAULT:@SECLEVEL=0";
  auto client = Client(nullptr, old);
  auto out = RunMemoryHandshake(server->native_handle(), client.get());
  EXPECT_FALSE(out.ok);
  EXPECT_EQ(ERR_GET_REASON(out.server_error_code), SSL_R_UNSUPPORTED_PROTOCOL) << out.server_error;
}

TEST_F(TlsHandshake, Tls12NegotiatesAeadWithForwardSecrecy) {
  auto server = Server(ClientCertMode::kRequired);
  const PemPair device = ValidDevice();
  testing::ClientOptions tls12;
  tls12.max_version = TLS1_2_VERSION;
  auto client = Client(&device, tls12);
  auto out = RunMemoryHandshake(server->native_handle(), client.get());
  ASSERT_TRUE(out.ok) << out.server_error << " | " << out.client_error;
  const std::string cipher = SSL_get_cipher_name(out.server.get());
  EXPECT_EQ(cipher.rfind("ECDHE-", 0), 0u) << cipher;
  EXPECT_TRUE(cipher.find("GCM") != std::string::npos || cipher.find("CHACHA20") != std::string::npos) << cipher;
}

TEST_F(TlsHandshake, Tls12RefusesCbcOnlyClient) {
  auto server = Server(ClientCertMode::kOptional);
  testing::ClientOptions cbc;
  cbc.max_version = TLS1_2_VERSION;
  cbc.cipher_list = "ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA";
  auto client = Client(nullptr, cbc);
  auto out = RunMemoryHandshake(server->native_handle(), client.get());
  EXPECT_FALSE(out.ok);
  EXPECT_EQ(ERR_GET_REASON(out.server_error_code), SSL_R_NO_SHARED_CIPHER) << out.server_error;
}

TEST_F(TlsHandshake, CompatibleProfileAcceptsCbcOnlyTls12Client) {
  ServerTlsSettings settings = Settings(ClientCertMode::kOptional);
  settings.profile = TlsProfile::kCompatible;
  auto server = MakeServerContext(settings);
  ASSERT_TRUE(server) << server.error().message;
  testing::ClientOptions cbc;
  cbc.max_version = TLS1_2_VERSION;
  cbc.cipher_list = "ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA";
  auto client = Client(nullptr, cbc);
  auto out = RunMemoryHandshake((*server)->native_handle(), client.get());
  ASSERT_TRUE(out.ok) << out.server_error << " | " << out.client_error;
  EXPECT_EQ(std::string(SSL_get_cipher_name(out.server.get())), "ECDHE-ECDSA-AES128-SHA256");
}

TEST_F(TlsHandshake, CompatibleProfileStillGivesAeadToClientsThatOfferIt) {
  ServerTlsSettings settings = Settings(ClientCertMode::kOptional);
  settings.profile = TlsProfile::kCompatible;
  auto server = MakeServerContext(settings);
  ASSERT_TRUE(server) << server.error().message;
  testing::ClientOptions both;
  both.max_version = TLS1_2_VERSION;
  // The client prefers CBC; the server's order wins.
  both.cipher_list = "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES128-GCM-SHA256";
  auto client = Client(nullptr, both);
  auto out = RunMemoryHandshake((*server)->native_handle(), client.get());
  ASSERT_TRUE(out.ok) << out.server_error << " | " << out.client_error;
  EXPECT_EQ(std::string(SSL_get_cipher_name(out.server.get())), "ECDHE-ECDSA-AES128-GCM-SHA256");
}

class TlsTwoCertificates : public TlsHandshake {
 protected:
  void SetUp() override {
    TlsHandshake::SetUp();
    auto spec = testing::ServerSpec(testing::kServerHost);
    spec.key_type = KeyType::kRsa2048;
    auto rsa = testing::SharedServerCa().Issue(spec);
    ASSERT_TRUE(rsa) << rsa.error().message;
    ASSERT_TRUE(rsa->WriteFiles(dir_ / "rsa.crt", dir_ / "rsa.key"));
  }

  std::shared_ptr<boost::asio::ssl::context> BothCerts(TlsProfile profile = TlsProfile::kModern) const {
    ServerTlsSettings settings = Settings(ClientCertMode::kOptional);
    settings.profile = profile;
    settings.more_certs = {{dir_ / "rsa.crt", dir_ / "rsa.key"}};
    auto ctx = MakeServerContext(settings);
    EXPECT_TRUE(ctx) << (ctx ? "" : ctx.error().message);
    return ctx ? *ctx : nullptr;
  }

  static int ServerKeyType(const testing::HandshakeOutcome& out) {
    X509* cert = SSL_get0_peer_certificate(out.client.get());
    return cert == nullptr ? EVP_PKEY_NONE : EVP_PKEY_get_base_id(X509_get0_pubkey(cert));
  }
};

TEST_F(TlsTwoCertificates, ClientThatAcceptsBothGetsEcdsa) {
  auto server = BothCerts();
  ASSERT_TRUE(server);
  for (const int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    testing::ClientOptions options;
    options.max_version = version;
    auto client = Client(nullptr, options);
    auto out = RunMemoryHandshake(server->native_handle(), client.get());
    ASSERT_TRUE(out.ok) << out.server_error << " | " << out.client_error;
    EXPECT_EQ(ServerKeyType(out), EVP_PKEY_EC) << version;
  }
}

TEST_F(TlsTwoCertificates, RsaOnlyClientGetsRsa) {
  auto server = BothCerts();
  ASSERT_TRUE(server);
  for (const int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    testing::ClientOptions options;
    options.max_version = version;
    options.min_version = version;
    auto client = Client(nullptr, options);
    ASSERT_EQ(SSL_CTX_set1_sigalgs_list(client.get(), "rsa_pss_rsae_sha256:RSA+SHA256"), 1);
    auto out = RunMemoryHandshake(server->native_handle(), client.get());
    ASSERT_TRUE(out.ok) << out.server_error << " | " << out.client_error;
    EXPECT_EQ(ServerKeyType(out), EVP_PKEY_RSA) << version;
  }
}

// With an RSA certificate loaded, static RSA key exchange would be possible: the
// compatible profile must still refuse it, and 3DES.
TEST_F(TlsTwoCertificates, CompatibleProfileRefusesStaticRsaAndTripleDes) {
  auto server = BothCerts(TlsProfile::kCompatible);
  ASSERT_TRUE(server);
  testing::ClientOptions weak;
  weak.max_version = TLS1_2_VERSION;
  weak.cipher_list = "AES128-SHA:AES128-GCM-SHA256:AES256-SHA256:DES-CBC3-SHA:@SECLEVEL=0";
  auto client = Client(nullptr, weak);
  auto out = RunMemoryHandshake(server->native_handle(), client.get());
  EXPECT_FALSE(out.ok);
  EXPECT_EQ(ERR_GET_REASON(out.server_error_code), SSL_R_NO_SHARED_CIPHER) << out.server_error;
}

TEST_F(TlsTwoCertificates, CompatibleProfileGivesRsaOnlyCbcClientEcdheRsa) {
  auto server = BothCerts(TlsProfile::kCompatible);
  ASSERT_TRUE(server);
  testing::ClientOptions cbc;
  cbc.max_version = TLS1_2_VERSION;
  cbc.cipher_list = "ECDHE-RSA-AES128-SHA256";
  auto client = Client(nullptr, cbc);
  auto out = RunMemoryHandshake(server->native_handle(), client.get());
  ASSERT_TRUE(out.ok) << out.server_error << " | " << out.client_error;
  EXPECT_EQ(std::string(SSL_get_cipher_name(out.server.get())), "ECDHE-RSA-AES128-SHA256");
  EXPECT_EQ(ServerKeyType(out), EVP_PKEY_RSA);
}

TEST_F(TlsTwoCertificates, RefusesTwoCertificatesWithKeysOfOneType) {
  auto other = testing::SharedServerCa().Issue(testing::ServerSpec("other.test"));
  ASSERT_TRUE(other);
  ASSERT_TRUE(other->WriteFiles(dir_ / "other.crt", dir_ / "other.key"));
  ServerTlsSettings settings = Settings(ClientCertMode::kOptional);
  settings.more_certs = {{dir_ / "other.crt", dir_ / "other.key"}};
  auto ctx = MakeServerContext(settings);
  ASSERT_FALSE(ctx);
  EXPECT_NE(ctx.error().message.find("one RSA and one ECDSA certificate at most"), std::string::npos)
      << ctx.error().message;
}

TEST_F(TlsTwoCertificates, RefusesASecondKeyThatIsNotItsCertificates) {
  ServerTlsSettings settings = Settings(ClientCertMode::kOptional);
  settings.more_certs = {{dir_ / "rsa.crt", dir_ / "server.key"}};
  auto ctx = MakeServerContext(settings);
  ASSERT_FALSE(ctx);
  EXPECT_NE(ctx.error().message.find("does not match"), std::string::npos) << ctx.error().message;
}

TEST_F(TlsHandshake, ResumesWithSessionTicketAndKeepsPeerIdentity) {
  auto server = Server(ClientCertMode::kRequired);
  const PemPair device = ValidDevice();
  auto client = Client(&device);
  auto first = RunMemoryHandshake(server->native_handle(), client.get());
  ASSERT_TRUE(first.ok) << first.server_error << " | " << first.client_error;
  testing::SslSessionPtr session(SSL_get1_session(first.client.get()));
  ASSERT_TRUE(session);
  ASSERT_EQ(SSL_SESSION_is_resumable(session.get()), 1);

  auto second = RunMemoryHandshake(server->native_handle(), client.get(), session.get());
  ASSERT_TRUE(second.ok) << second.server_error << " | " << second.client_error;
  EXPECT_EQ(SSL_session_reused(second.server.get()), 1);
  X509* peer = SSL_get0_peer_certificate(second.server.get());
  ASSERT_NE(peer, nullptr);
  auto id = ExtractIdentity(peer, DefaultMacRules());
  ASSERT_TRUE(id);
  EXPECT_EQ(id->mac.str(), "805ec0123456");
}

TEST_F(TlsHandshake, AcceptsDeviceCertsFromEveryCaOfABundle) {
  auto second = CertAuthority::Create(testing::CaSpec("Second Device CA"));
  ASSERT_TRUE(second);
  WriteText("two.pem", testing::SharedDeviceCa().pem().cert_pem + second->pem().cert_pem);
  auto s = Settings(ClientCertMode::kRequired);
  s.trust_anchors = {dir_ / "two.pem"};
  auto server = MakeServerContext(s);
  ASSERT_TRUE(server) << server.error().message;
  for (const CertAuthority* ca : {&testing::SharedDeviceCa(), static_cast<const CertAuthority*>(&*second)}) {
    const PemPair device = Device(*ca, "805ec0123456", testing::kValidFrom, testing::kValidUntil);
    auto client = Client(&device);
    auto out = RunMemoryHandshake((*server)->native_handle(), client.get());
    EXPECT_TRUE(out.ok) << out.server_error;
  }
}

TEST_F(TlsHandshake, ReconnectWithAVerifiedCertificateSkipsTheChainButNotTheIdentity) {
  auto server = Server(ClientCertMode::kRequired);
  const PemPair device = ValidDevice();
  const VerifiedCertCache* cache = VerifiedCertCacheOf(server->native_handle());
  ASSERT_NE(cache, nullptr);
  for (int i = 0; i < 3; ++i) {
    auto client = Client(&device);  // a fresh client each time: no session to resume
    auto out = RunMemoryHandshake(server->native_handle(), client.get());
    ASSERT_TRUE(out.ok) << out.server_error << " | " << out.client_error;
    EXPECT_EQ(SSL_session_reused(out.server.get()), 0);
    EXPECT_EQ(SSL_get_verify_result(out.server.get()), X509_V_OK);
    auto id = ExtractIdentity(SSL_get0_peer_certificate(out.server.get()), DefaultMacRules());
    ASSERT_TRUE(id) << id.error().message;
    EXPECT_EQ(id->mac.str(), "805ec0123456");
  }
  EXPECT_EQ(cache->misses(), 1u);
  EXPECT_EQ(cache->hits(), 2u);
}

TEST_F(TlsHandshake, RefusedCertificatesAreNeverCached) {
  auto rogue = CertAuthority::Create(testing::CaSpec("Rogue CA"));
  ASSERT_TRUE(rogue);
  const PemPair device = Device(*rogue, "805ec0123456", testing::kValidFrom, testing::kValidUntil);
  auto server = Server(ClientCertMode::kRequired);
  for (int i = 0; i < 2; ++i) {
    auto client = Client(&device);
    auto out = RunMemoryHandshake(server->native_handle(), client.get());
    EXPECT_FALSE(out.ok);
    EXPECT_EQ(GetVerifyFailure(out.server.get()).reason, "unable to get local issuer certificate");
  }
  EXPECT_EQ(VerifiedCertCacheOf(server->native_handle())->hits(), 0u);
}

TEST_F(TlsHandshake, ACachedCertificateStopsWorkingWhenItExpires) {
  auto server = Server(ClientCertMode::kRequired);
  const PemPair device = ValidDevice();
  X509_VERIFY_PARAM* param = SSL_CTX_get0_param(server->native_handle());
  X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(testing::kValidFrom + 86400));
  {
    auto client = Client(&device);
    ASSERT_TRUE(RunMemoryHandshake(server->native_handle(), client.get()).ok);
  }
  X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(testing::kValidUntil + 1));
  auto client = Client(&device);
  auto out = RunMemoryHandshake(server->native_handle(), client.get());
  EXPECT_FALSE(out.ok);
  EXPECT_NE(GetVerifyFailure(out.server.get()).reason.find("expired"), std::string::npos);
}

TEST_F(TlsHandshake, AResumedSessionDoesNotOutliveItsCertificate) {
  auto server = Server(ClientCertMode::kRequired);
  const PemPair device = ValidDevice();
  auto client = Client(&device);
  auto first = RunMemoryHandshake(server->native_handle(), client.get());
  ASSERT_TRUE(first.ok) << first.server_error;
  testing::SslSessionPtr session(SSL_get1_session(first.client.get()));
  ASSERT_NE(session, nullptr);
  auto resumed = RunMemoryHandshake(server->native_handle(), client.get(), session.get());
  ASSERT_TRUE(resumed.ok) << resumed.server_error;
  ASSERT_EQ(SSL_session_reused(resumed.server.get()), 1);  // no verification ran this time
  auto now = PeerIdentity(resumed.server.get(), DefaultMacRules(), testing::kValidFrom + 86400);
  ASSERT_TRUE(now) << now.error().message;
  EXPECT_EQ(now->mac.str(), "805ec0123456");
  auto later = PeerIdentity(resumed.server.get(), DefaultMacRules(), testing::kValidUntil + 1);
  ASSERT_FALSE(later);
  EXPECT_EQ(later.error().code, ErrorCode::kFailedPrecondition);
}

TEST_F(TlsHandshake, ResumptionUsesTheServerSideCacheOnlyWhenEnabled) {
  for (int sessions : {0, 16}) {
    ServerTlsSettings settings = Settings(ClientCertMode::kRequired);
    settings.session_cache = sessions;
    auto server = MakeServerContext(settings);
    ASSERT_TRUE(server) << server.error().message;
    SSL_CTX* ctx = (*server)->native_handle();
    const PemPair device = ValidDevice();
    auto client = Client(&device);
    auto first = RunMemoryHandshake(ctx, client.get());
    ASSERT_TRUE(first.ok) << first.server_error;
    testing::SslSessionPtr session(SSL_get1_session(first.client.get()));
    ASSERT_NE(session, nullptr);
    // The client holds only an id: the session itself stays in the server's cache.
    EXPECT_EQ(SSL_CTX_sess_number(ctx), sessions > 0 ? 1 : 0);
    auto again = RunMemoryHandshake(ctx, client.get(), session.get());
    ASSERT_TRUE(again.ok) << again.server_error;
    EXPECT_EQ(SSL_session_reused(again.server.get()), sessions > 0 ? 1 : 0) << sessions;
  }
  ServerTlsSettings bad = Settings(ClientCertMode::kRequired);
  bad.session_cache = -1;
  EXPECT_FALSE(MakeServerContext(bad));
}

}  // namespace
}  // namespace provgate::tls
