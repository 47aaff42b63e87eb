#include "defense/digest.hpp"

#include <gtest/gtest.h>

#include "crypto/random.hpp"
#include "defense/test_support.hpp"

namespace provgate::defense {
namespace {

constexpr std::string_view kRealm = "provgate";
constexpr std::string_view kUser = "001565aabbcc";
constexpr std::string_view kPassword = "correct horse";
constexpr std::string_view kTarget = "/001565aabbcc.cfg";

std::string Header(DigestAlgorithm alg, std::string_view nonce, std::string_view nc, std::string_view password,
                   std::string_view uri = kTarget, std::string_view user = kUser) {
  return test_support::DigestAuthorization(alg, user, password, kRealm, nonce, nc, "GET", uri);
}

class Digest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(crypto::InitCrypto()); }

  DigestOutcome Verify(const std::string& header, std::string_view ha1, std::string_view target = kTarget) {
    auto creds = ParseDigestAuthorization(header);
    EXPECT_TRUE(creds) << (creds ? "" : creds.error().message);
    if (!creds) return DigestOutcome::kBadResponse;
    const DigestRequest req{"GET", target, kRealm, {DigestAlgorithm::kSha256, DigestAlgorithm::kMd5}, Channel::kTls};
    return VerifyDigest(*creds, req, ha1, nonces_);
  }

  // The nonce of a challenge sent on `channel`.
  std::string Issued(Channel channel = Channel::kTls) {
    return test_support::ChallengeNonce(Challenge(nonces_, kRealm, channel, {DigestAlgorithm::kSha256}).front());
  }

  ManualClock clock_{FromUnix(1'800'000'000)};
  NonceManager nonces_{clock_, NonceManagerOptions{Seconds(300), 1000}};
};

TEST_F(Digest, MatchesRfc7616Examples) {
  // RFC 7616 section 3.9.1.
  const std::string nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
  const std::string cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
  const auto md5 = ComputeHa1(DigestAlgorithm::kMd5, "Mufasa", "http-auth@example.org", "Circle of Life");
  EXPECT_EQ(ComputeDigestResponse(DigestAlgorithm::kMd5, md5, nonce, "00000001", cnonce, "GET", "/dir/index.html"),
            "8ca523f5e9506fed4657c9700eebdbec");
  const auto sha = ComputeHa1(DigestAlgorithm::kSha256, "Mufasa", "http-auth@example.org", "Circle of Life");
  EXPECT_EQ(ComputeDigestResponse(DigestAlgorithm::kSha256, sha, nonce, "00000001", cnonce, "GET", "/dir/index.html"),
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
}

TEST_F(Digest, AcceptsCorrectPasswordForBothAlgorithms) {
  for (auto alg : {DigestAlgorithm::kSha256, DigestAlgorithm::kMd5}) {
    const std::string nonce = Issued();
    EXPECT_EQ(Verify(Header(alg, nonce, "00000001", kPassword), ComputeHa1(alg, kUser, kRealm, kPassword)),
              DigestOutcome::kOk);
  }
}

TEST_F(Digest, RefusesWrongPassword) {
  const std::string nonce = Issued();
  EXPECT_EQ(Verify(Header(DigestAlgorithm::kSha256, nonce, "00000001", "wrong"),
                   ComputeHa1(DigestAlgorithm::kSha256, kUser, kRealm, kPassword)),
            DigestOutcome::kBadResponse);
}

TEST_F(Digest, RefusesUnknownUserThroughDummyHa1) {
  const std::string nonce = Issued();
  EXPECT_EQ(Verify(Header(DigestAlgorithm::kSha256, nonce, "00000001", kPassword), DummyHa1(DigestAlgorithm::kSha256)),
            DigestOutcome::kBadResponse);
  EXPECT_EQ(DummyHa1(DigestAlgorithm::kSha256).size(), 64u);
  EXPECT_EQ(DummyHa1(DigestAlgorithm::kMd5).size(), 32u);
}

TEST_F(Digest, RefusesReplayedNonceCount) {
  const auto ha1 = ComputeHa1(DigestAlgorithm::kSha256, kUser, kRealm, kPassword);
  const std::string nonce = Issued();
  const std::string first = Header(DigestAlgorithm::kSha256, nonce, "00000001", kPassword);
  EXPECT_EQ(Verify(first, ha1), DigestOutcome::kOk);
  EXPECT_EQ(Verify(first, ha1), DigestOutcome::kReplayedNonce);
  EXPECT_EQ(Verify(Header(DigestAlgorithm::kSha256, nonce, "00000003", kPassword), ha1), DigestOutcome::kOk);
  // Going back is a replay too, even for a count never used.
  EXPECT_EQ(Verify(Header(DigestAlgorithm::kSha256, nonce, "00000002", kPassword), ha1), DigestOutcome::kReplayedNonce);
}

TEST_F(Digest, ReportsStaleOnlyForRightPasswordWithExpiredNonce) {
  const auto ha1 = ComputeHa1(DigestAlgorithm::kSha256, kUser, kRealm, kPassword);
  const std::string nonce = Issued();
  clock_.Advance(Seconds(300));
  EXPECT_EQ(Verify(Header(DigestAlgorithm::kSha256, nonce, "00000001", kPassword), ha1), DigestOutcome::kStaleNonce);
  EXPECT_EQ(Verify(Header(DigestAlgorithm::kSha256, nonce, "00000001", "wrong"), ha1), DigestOutcome::kBadResponse);
}

TEST_F(Digest, AcceptsNonceJustBeforeExpiry) {
  const auto ha1 = ComputeHa1(DigestAlgorithm::kSha256, kUser, kRealm, kPassword);
  const std::string nonce = Issued();
  clock_.Advance(Seconds(299));
  EXPECT_EQ(Verify(Header(DigestAlgorithm::kSha256, nonce, "00000001", kPassword), ha1), DigestOutcome::kOk);
}

TEST_F(Digest, RefusesForgedOrForeignNonce) {
  const auto ha1 = ComputeHa1(DigestAlgorithm::kSha256, kUser, kRealm, kPassword);
  std::string nonce = Issued();
  nonce[5] = nonce[5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(Verify(Header(DigestAlgorithm::kSha256, nonce, "00000001", kPassword), ha1), DigestOutcome::kInvalidNonce);
  NonceManager other(clock_, NonceManagerOptions{});
  EXPECT_EQ(Verify(Header(DigestAlgorithm::kSha256, other.Issue(kRealm), "00000001", kPassword), ha1),
            DigestOutcome::kInvalidNonce);
  EXPECT_EQ(nonces_.Check(nonces_.Issue("other realm"), kRealm), NonceCheck::kInvalid);
}

// Nodes behind one balancer share the nonce key: a nonce node A issues verifies on node B.
// Replay state stays per node, so the same nonce-count is accepted once by each node that
// sees it; a node with another key refuses the nonce as not its own.
TEST_F(Digest, SharedKeyNonceVerifiesOnEveryNodeAndForeignKeyRefuses) {
  std::array<unsigned char, NonceManager::kKeySize> key{};
  key.fill(0x5a);
  NonceManager node_a(clock_, NonceManagerOptions{}, key);
  NonceManager node_b(clock_, NonceManagerOptions{}, key);
  std::array<unsigned char, NonceManager::kKeySize> other_key{};
  other_key.fill(0xa5);
  NonceManager node_c(clock_, NonceManagerOptions{}, other_key);
  const std::string nonce = node_a.Issue(kRealm);
  EXPECT_EQ(node_b.Use(nonce, kRealm, 1), NonceCheck::kValid);
  EXPECT_EQ(node_b.Use(nonce, kRealm, 1), NonceCheck::kReplay);
  EXPECT_EQ(node_a.Use(nonce, kRealm, 1), NonceCheck::kValid);
  EXPECT_EQ(node_c.Use(nonce, kRealm, 1), NonceCheck::kInvalid);
  clock_.Advance(Seconds(300));
  EXPECT_EQ(node_b.Use(nonce, kRealm, 2), NonceCheck::kStale);
}

// A nonce is bound to the connection it was issued on: an Authorization header seen on a
// plain-HTTP connection does not verify over TLS, nor the reverse.
TEST_F(Digest, ANonceVerifiesOnlyOnTheChannelItWasIssuedOn) {
  const auto ha1 = ComputeHa1(DigestAlgorithm::kSha256, kUser, kRealm, kPassword);
  const auto verify_on = [&](const std::string& nonce, Channel channel) {
    auto creds = ParseDigestAuthorization(Header(DigestAlgorithm::kSha256, nonce, "00000001", kPassword));
    EXPECT_TRUE(creds);
    const DigestRequest req{"GET", kTarget, kRealm, {DigestAlgorithm::kSha256}, channel};
    return VerifyDigest(*creds, req, ha1, nonces_);
  };
  EXPECT_EQ(verify_on(Issued(Channel::kPlain), Channel::kTls), DigestOutcome::kInvalidNonce);
  EXPECT_EQ(verify_on(Issued(Channel::kTls), Channel::kPlain), DigestOutcome::kInvalidNonce);
  EXPECT_EQ(verify_on(Issued(Channel::kPlain), Channel::kPlain), DigestOutcome::kOk);
  EXPECT_EQ(verify_on(Issued(Channel::kTls), Channel::kTls), DigestOutcome::kOk);
}

TEST_F(Digest, BindsResponseToRequestTarget) {
  const auto ha1 = ComputeHa1(DigestAlgorithm::kSha256, kUser, kRealm, kPassword);
  const std::string nonce = Issued();
  EXPECT_EQ(Verify(Header(DigestAlgorithm::kSha256, nonce, "00000001", kPassword), ha1, "/other.cfg"),
            DigestOutcome::kBadResponse);
}

TEST_F(Digest, RefusesAlgorithmNotAllowedByListener) {
  const std::string nonce = Issued();
  auto creds = ParseDigestAuthorization(Header(DigestAlgorithm::kMd5, nonce, "00000001", kPassword));
  ASSERT_TRUE(creds);
  const DigestRequest req{"GET", kTarget, kRealm, {DigestAlgorithm::kSha256}, Channel::kTls};
  EXPECT_EQ(VerifyDigest(*creds, req, DummyHa1(DigestAlgorithm::kMd5), nonces_), DigestOutcome::kAlgorithmRefused);
}

TEST_F(Digest, ForgetsOldestNoncesAsStaleWhenFull) {
  NonceManager small(clock_, NonceManagerOptions{Seconds(300), 2});
  const std::string a = small.Issue(kRealm);
  clock_.Advance(std::chrono::milliseconds(1));
  const std::string b = small.Issue(kRealm);
  clock_.Advance(std::chrono::milliseconds(1));
  const std::string c = small.Issue(kRealm);
  EXPECT_EQ(small.Use(a, kRealm, 1), NonceCheck::kValid);
  EXPECT_EQ(small.Use(b, kRealm, 1), NonceCheck::kValid);
  EXPECT_EQ(small.Use(c, kRealm, 1), NonceCheck::kValid);
  EXPECT_EQ(small.tracked(), 2u);
  // a was forgotten: it must not become replayable, so it is stale.
  EXPECT_EQ(small.Use(a, kRealm, 1), NonceCheck::kStale);
  EXPECT_EQ(small.Use(a, kRealm, 2), NonceCheck::kStale);
  EXPECT_EQ(small.Use(c, kRealm, 1), NonceCheck::kReplay);
}

TEST_F(Digest, PrunesExpiredReplayState) {
  for (int i = 0; i < 10; ++i) ASSERT_EQ(nonces_.Use(nonces_.Issue(kRealm), kRealm, 1), NonceCheck::kValid);
  EXPECT_EQ(nonces_.tracked(), 10u);
  clock_.Advance(Seconds(301));
  EXPECT_EQ(nonces_.Use(nonces_.Issue(kRealm), kRealm, 1), NonceCheck::kValid);
  EXPECT_EQ(nonces_.tracked(), 1u);
}

TEST_F(Digest, ChallengeIsSameFormForEveryoneSha256First) {
  const auto a = Challenge(nonces_, kRealm, Channel::kTls, {DigestAlgorithm::kSha256, DigestAlgorithm::kMd5});
  const auto b = Challenge(nonces_, kRealm, Channel::kTls, {DigestAlgorithm::kSha256, DigestAlgorithm::kMd5});
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].rfind("Digest realm=\"provgate\", qop=\"auth\", algorithm=SHA-256, nonce=\"", 0), 0u);
  EXPECT_EQ(a[1].rfind("Digest realm=\"provgate\", qop=\"auth\", algorithm=MD5, nonce=\"", 0), 0u);
  // Only the nonce differs between two challenges, and it has a fixed length.
  EXPECT_EQ(a[0].size(), b[0].size());
  EXPECT_EQ(a[1].size(), b[1].size());
  EXPECT_NE(a[0], b[0]);
  const auto stale = Challenge(nonces_, kRealm, Channel::kTls, {DigestAlgorithm::kSha256}, true);
  EXPECT_NE(stale[0].find(", stale=true"), std::string::npos);
  EXPECT_EQ(Challenge(nonces_, "a\"b", Channel::kTls, {DigestAlgorithm::kMd5})[0].rfind("Digest realm=\"a\\\"b\"", 0),
            0u);
}

TEST_F(Digest, ParsesQuotedEscapesAndCaseInsensitiveNames) {
  auto c = ParseDigestAuthorization(
      "digest USERNAME=\"a\\\"b\", Realm=\"r\", nonce=\"n\", uri=\"/x\", "
      "response=\"0123456789ABCDEF0123456789abcdef\", qop=\"auth\", nc=0000000A, "
      "cnonce=\"c\", opaque=\"ignored\", userhash=false");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->username, "a\"b");
  EXPECT_EQ(c->algorithm, DigestAlgorithm::kMd5);
  EXPECT_EQ(c->nc, 10u);
  EXPECT_EQ(c->nc_text, "0000000A");
  EXPECT_EQ(c->response, "0123456789abcdef0123456789abcdef");
}

TEST_F(Digest, RejectsMalformedHeaders) {
  const std::string ok_tail =
      "realm=\"r\", nonce=\"n\", uri=\"/x\", qop=auth, nc=00000001, cnonce=\"c\", "
      "response=\"0123456789abcdef0123456789abcdef\"";
  const std::vector<std::string> cases = {
      std::string("Basic dXNlcjpwYXNz"),
      std::string("Digest"),
      std::string("Digestusername=\"u\", ") + ok_tail,
      "Digest " + ok_tail,                                          // no username
      "Digest username=\"u\", username=\"v\", " + ok_tail,          // duplicate
      "Digest username=\"u\", " + ok_tail + ", algorithm=SHA-256",  // length mismatch
      "Digest username=\"u\", " + ok_tail + ", algorithm=MD5-sess",
      "Digest username=\"u\", " + ok_tail + ", userhash=true",
      "Digest username*=UTF-8''u, " + ok_tail,
      "Digest username=\"u\x01\", " + ok_tail,
      "Digest username=\"u, " + ok_tail,
      "Digest username=\"u\",, " + ok_tail,
      "Digest username=\"u\" " + ok_tail,
      "Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"/x\", qop=auth-int, "
      "nc=00000001, cnonce=\"c\", response=\"0123456789abcdef0123456789abcdef\"",
      "Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"/x\", "
      "response=\"0123456789abcdef0123456789abcdef\"",  // RFC 2069 style, no qop
      "Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"/x\", qop=auth, nc=00000000, "
      "cnonce=\"c\", response=\"0123456789abcdef0123456789abcdef\"",
      "Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"/x\", qop=auth, nc=1, "
      "cnonce=\"c\", response=\"0123456789abcdef0123456789abcdef\"",
      "Digest username=\"u\", " + ok_tail + std::string(kMaxAuthorizationBytes, ' '),
  };
  for (const std::string& bad : cases) {
    EXPECT_FALSE(ParseDigestAuthorization(bad)) << bad;
  }
  std::string many = "Digest username=\"u\", " + ok_tail;
  for (int i = 0; i < 32; ++i) many += ", x" + std::to_string(i) + "=1";
  EXPECT_FALSE(ParseDigestAuthorization(many));
}

TEST_F(Digest, BasicVerifiesAgainstStoredHa1InConstantTimeCompare) {
  auto creds = ParseBasicAuthorization("Basic MDAxNTY1YWFiYmNjOmNvcnJlY3QgaG9yc2U=");
  ASSERT_TRUE(creds);
  EXPECT_EQ(creds->user, kUser);
  EXPECT_EQ(creds->password, kPassword);
  const auto ha1 = ComputeHa1(DigestAlgorithm::kSha256, kUser, kRealm, kPassword);
  EXPECT_TRUE(VerifyBasic(*creds, kRealm, DigestAlgorithm::kSha256, ha1));
  creds->password = "wrong";
  EXPECT_FALSE(VerifyBasic(*creds, kRealm, DigestAlgorithm::kSha256, ha1));
  EXPECT_FALSE(VerifyBasic(*creds, kRealm, DigestAlgorithm::kSha256, DummyHa1(DigestAlgorithm::kSha256)));
}

TEST_F(Digest, BasicRejectsMalformedValues) {
  for (const char* bad : {"Basic", "Basic ", "Basic dXNlcg==",  // no colon
                          "Basic OnBhc3M=",                     // empty user
                          "Basic dXNlcjpwYXNz=", "Basic dXNlcjpwYXNz!", "Basic dXNlcjpwYR==", "Bearer dXNlcjpwYXNz",
                          "Basic dXMKZXI6cGFzcw=="}) {
    EXPECT_FALSE(ParseBasicAuthorization(bad)) << bad;
  }
  EXPECT_TRUE(ParseBasicAuthorization("basic   dXNlcjpwYXNz"));
}

}  // namespace
}  // namespace provgate::defense
