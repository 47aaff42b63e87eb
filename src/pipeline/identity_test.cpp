// Every identity method a device can prove itself with, against every way its credential can
// be presented: right, wrong, another device's, expired (or replaced, for a credential with
// no lifetime of its own) and replayed. One row per method and case, each asserting what
// the request that presents it gets: status, challenge, and the decision, reason, identity
// source and device of its audit record. The URL always names device A's file. A case that
// does not apply to a method has a row too, saying why; it sends nothing.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "defense/test_support.hpp"
#include "defense/tokens.hpp"
#include "pipeline/test_support.hpp"

namespace provgate::pipeline {
namespace {

enum class Method { kClientCert, kUrlToken, kDigestSha256, kDigestMd5, kBasic, kIpRange };
enum class Case { kRight, kWrong, kOtherDevice, kExpired, kReplayed };
enum class Challenge { kNone, kFresh, kStale };  // what a response's WWW-Authenticate offers

constexpr Method kMethods[] = {Method::kClientCert, Method::kUrlToken, Method::kDigestSha256,
                               Method::kDigestMd5,  Method::kBasic,    Method::kIpRange};
constexpr Case kCases[] = {Case::kRight, Case::kWrong, Case::kOtherDevice, Case::kExpired, Case::kReplayed};

constexpr std::string_view kA = "001565aabbcc";  // the device whose file every row asks for
constexpr std::string_view kB = "001565ddeeff";  // another device of A's tenant
constexpr std::string_view kC = "001565000c0c";  // a device of another tenant
// What the listener reports for a certificate that expired while its resumed TLS session
// was still open (tls::PeerIdentity); one expired at the handshake never reaches the
// pipeline (tls/handshake_test.cpp).
constexpr std::string_view kExpiredInSession = "certificate expired since its TLS session began";
constexpr std::string_view kRefusedExpiredInSession =
    "certificate refused: certificate expired since its TLS session began";

struct Row {
  std::string_view name;
  Method method;
  Case what;
  // What the request presents; for a case that does not apply, why not.
  std::string_view presents;
  bool applies = true;
  int status = 0;
  Challenge challenge = Challenge::kNone;
  std::string_view decision;  // the request's audit record...
  std::string_view reason;
  std::string_view identity_source;
  std::string_view device;  // ...whose credential it proved ("" = nobody's)
};

constexpr Row kRows[] = {
    {"ClientCertRight", Method::kClientCert, Case::kRight, "A's certificate, the key A pinned", true, 200,
     Challenge::kNone, "allow", "device file", "client-cert", kA},
    {"ClientCertWrong", Method::kClientCert, Case::kWrong,
     "a certificate naming A with another key than the one A pinned", true, 404, Challenge::kNone, "deny",
     "certificate key changed", "client-cert", kA},
    {"ClientCertOtherDevice", Method::kClientCert, Case::kOtherDevice, "B's certificate", true, 404, Challenge::kNone,
     "deny", "mac mismatch", "client-cert", kB},
    {"ClientCertExpired", Method::kClientCert, Case::kExpired,
     "A's certificate, expired during its resumed TLS session", true, 401, Challenge::kFresh, "deny",
     kRefusedExpiredInSession, "none", ""},
    {"ClientCertReplayed", Method::kClientCert, Case::kReplayed,
     "n/a: the TLS handshake proves the private key on every connection; nothing at the HTTP "
     "layer can be replayed",
     false},

    {"UrlTokenRight", Method::kUrlToken, Case::kRight, "A's token", true, 200, Challenge::kNone, "allow", "device file",
     "token", kA},
    {"UrlTokenWrong", Method::kUrlToken, Case::kWrong, "a token no device has", true, 404, Challenge::kNone, "deny",
     "wrong token", "token", ""},
    {"UrlTokenOtherDevice", Method::kUrlToken, Case::kOtherDevice, "B's token", true, 404, Challenge::kNone, "deny",
     "mac mismatch", "token", kB},
    {"UrlTokenExpired", Method::kUrlToken, Case::kExpired,
     "a token has no lifetime: A's token after re-activation replaced it", true, 404, Challenge::kNone, "deny",
     "wrong token", "token", ""},
    {"UrlTokenReplayed", Method::kUrlToken, Case::kReplayed,
     "n/a: a URL token is a bearer secret the phone sends on every fetch; TLS protects it and "
     "re-activation replaces it (the expired row)",
     false},

    {"DigestSha256Right", Method::kDigestSha256, Case::kRight, "A's password, a fresh nonce", true, 200,
     Challenge::kNone, "allow", "device file", "digest", kA},
    {"DigestSha256Wrong", Method::kDigestSha256, Case::kWrong, "user A, a wrong password", true, 401, Challenge::kFresh,
     "deny", "digest failed", "digest", ""},
    {"DigestSha256OtherDevice", Method::kDigestSha256, Case::kOtherDevice, "user B, B's password", true, 404,
     Challenge::kNone, "deny", "mac mismatch", "digest", kB},
    {"DigestSha256Expired", Method::kDigestSha256, Case::kExpired, "A's password, a nonce older than nonce_lifetime",
     true, 401, Challenge::kStale, "deny", "digest nonce stale", "digest", ""},
    {"DigestSha256Replayed", Method::kDigestSha256, Case::kReplayed,
     "A's answer already accepted once (same nonce, same nonce-count)", true, 401, Challenge::kFresh, "deny",
     "digest replay", "digest", ""},

    {"DigestMd5Right", Method::kDigestMd5, Case::kRight, "A's password, a fresh nonce", true, 200, Challenge::kNone,
     "allow", "device file", "digest", kA},
    {"DigestMd5Wrong", Method::kDigestMd5, Case::kWrong, "user A, a wrong password", true, 401, Challenge::kFresh,
     "deny", "digest failed", "digest", ""},
    {"DigestMd5OtherDevice", Method::kDigestMd5, Case::kOtherDevice, "user B, B's password", true, 404,
     Challenge::kNone, "deny", "mac mismatch", "digest", kB},
    {"DigestMd5Expired", Method::kDigestMd5, Case::kExpired, "A's password, a nonce older than nonce_lifetime", true,
     401, Challenge::kStale, "deny", "digest nonce stale", "digest", ""},
    {"DigestMd5Replayed", Method::kDigestMd5, Case::kReplayed,
     "A's answer already accepted once (same nonce, same nonce-count)", true, 401, Challenge::kFresh, "deny",
     "digest replay", "digest", ""},

    {"BasicRight", Method::kBasic, Case::kRight, "user A, A's digest password, over TLS", true, 200, Challenge::kNone,
     "allow", "device file", "basic", kA},
    {"BasicWrong", Method::kBasic, Case::kWrong, "user A, a wrong password", true, 401, Challenge::kFresh, "deny",
     "basic failed", "basic", ""},
    {"BasicOtherDevice", Method::kBasic, Case::kOtherDevice, "user B, B's password", true, 404, Challenge::kNone,
     "deny", "mac mismatch", "basic", kB},
    {"BasicExpired", Method::kBasic, Case::kExpired,
     "a password has no lifetime: A's password after the operator revoked it", true, 401, Challenge::kFresh, "deny",
     "basic failed", "basic", ""},
    {"BasicReplayed", Method::kBasic, Case::kReplayed,
     "n/a: Basic sends the password itself on every request, which is why it is accepted only "
     "over TLS; there is no nonce to replay",
     false},

    {"IpRangeRight", Method::kIpRange, Case::kRight, "an address in A's tenant's range", true, 200, Challenge::kNone,
     "allow", "device file", "ip", kA},
    {"IpRangeWrong", Method::kIpRange, Case::kWrong, "an address in no tenant's range", true, 401, Challenge::kFresh,
     "deny", "no identity", "none", ""},
    {"IpRangeOtherDevice", Method::kIpRange, Case::kOtherDevice,
     "an address in the range of C's tenant (a range names a tenant, not a device)", true, 401, Challenge::kFresh,
     "deny", "no identity", "none", ""},
    {"IpRangeExpired", Method::kIpRange, Case::kExpired,
     "n/a: a source range has no lifetime; the tenant's ranges change only when an operator "
     "changes them",
     false},
    {"IpRangeReplayed", Method::kIpRange, Case::kReplayed,
     "n/a: the source address is all there is; no credential to replay", false},
};

// Rows print as their names, challenges as theirs (test names and failure messages).
void PrintTo(const Row& row, std::ostream* os) { *os << row.name; }
void PrintTo(Challenge c, std::ostream* os) {
  *os << (c == Challenge::kNone ? "no challenge" : c == Challenge::kFresh ? "fresh challenge" : "stale challenge");
}

std::vector<Row> ApplicableRows() {
  std::vector<Row> out;
  for (const Row& row : kRows) {
    if (row.applies) out.push_back(row);
  }
  return out;
}

TEST(IdentityTable, HasOneRowForEveryMethodAndCaseAndSaysWhyOneDoesNotApply) {
  for (Method m : kMethods) {
    for (Case c : kCases) {
      int rows = 0;
      for (const Row& row : kRows) {
        if (row.method != m || row.what != c) continue;
        ++rows;
        EXPECT_EQ(row.applies, !row.presents.starts_with("n/a: ")) << row.name;
        EXPECT_EQ(row.applies, row.status != 0) << row.name;
      }
      EXPECT_EQ(rows, 1) << "method " << static_cast<int>(m) << ", case " << static_cast<int>(c);
    }
  }
}

class IdentityRow : public test_support::PipelineTest, public ::testing::WithParamInterface<Row> {
 protected:
  void SetUp() override {
    PipelineTest::SetUp();
    // Every method is strong enough for A's tenant: the rows test identification, not policy.
    // Only the IP rows let a source range identify a device, so no other row is served by
    // its address.
    tenant_.min_strength = core::IdentityStrength::kIpRange;
    if (GetParam().method == Method::kIpRange) {
      tenant_.ip_ranges = net::IpSet::Parse({"192.0.2.0/24"}).value();
      tenant_.ip_as_identity = true;
    }
    ASSERT_TRUE(store_->UpdateTenant(tenant_));
    core::Tenant other{.name = "globex"};
    other.min_strength = core::IdentityStrength::kIpRange;
    other.ip_ranges = net::IpSet::Parse({"203.0.113.0/24"}).value();
    other.ip_as_identity = true;
    other = store_->AddTenant(other).value();
    c_ = AddDevice(std::string(kC), "yealink", "T54W", core::DeviceState::kAssigned);
    c_.tenant_id = other.id;
    ASSERT_TRUE(store_->UpdateDevice(c_));

    // A pinned its certificate's key; A and B have a URL token and a digest password.
    ASSERT_TRUE(store_->PinDevice(a_.id, "spki-of-" + std::string(kA)).value());
    for (core::Device* d : {&a_, &b_}) {
      tokens_[d->mac.str()] = defense::GenerateToken();
      d->token_hash = defense::HashToken(tokens_[d->mac.str()]);
      d->digest_password = "digest-of-" + d->mac.str();
      ASSERT_TRUE(store_->UpdateDevice(*d));
    }
  }

  // The device whose credential the other-device row presents: for a source range, one of
  // another tenant (every device of A's tenant shares A's range).
  const core::Device& Other() const { return GetParam().method == Method::kIpRange ? c_ : b_; }

  // A request for A's file on a listener that accepts every method, presenting `holder`'s
  // credential of the row's method, or a wrong one of the holder's when `right` is false.
  DeviceRequest Present(const core::Device& holder, bool right) {
    const std::string target = "/" + std::string(kA) + ".cfg";
    const std::string user = holder.mac.str();
    const std::string password = right ? holder.digest_password.value_or("") : "wrong";
    DeviceRequest r = Request(target, std::nullopt);
    switch (GetParam().method) {
      case Method::kClientCert:
        r = Request(target, user);
        if (!right) r.cert->spki_sha256 = "a-key-nobody-pinned";
        break;
      case Method::kUrlToken: r.target = "/p/" + (right ? tokens_.at(user) : defense::GenerateToken()) + target; break;
      case Method::kDigestSha256:
      case Method::kDigestMd5: {
        const auto algorithm = GetParam().method == Method::kDigestMd5 ? defense::DigestAlgorithm::kMd5
                                                                       : defense::DigestAlgorithm::kSha256;
        r.authorization = defense::test_support::DigestAuthorization(
            algorithm, user, password, defenses_->options().realm, ChallengedNonce(target), "00000001", "GET", target);
        break;
      }
      case Method::kBasic: r.authorization = defense::test_support::BasicAuthorization(user, password); break;
      case Method::kIpRange:
        r.peer = *net::IpAddress::Parse(!right ? "198.51.100.7" : user == kC ? "203.0.113.7" : "192.0.2.10");
        break;
    }
    r.methods = AllowedMethods{};
    return r;
  }

  // A's credential of the row's method past its lifetime or, for one without a lifetime,
  // after the operator replaced or revoked it.
  DeviceRequest Expired() {
    DeviceRequest r = Present(a_, true);
    switch (GetParam().method) {
      case Method::kClientCert:
        r.cert.reset();
        r.cert_subject = "CN=" + std::string(kA);
        r.cert_problem = kExpiredInSession;
        break;
      case Method::kUrlToken:
        a_.token_hash = defense::HashToken(defense::GenerateToken());
        EXPECT_TRUE(store_->UpdateDevice(a_));
        break;
      case Method::kDigestSha256:
      case Method::kDigestMd5:
        clock_.Advance(defenses_->options().nonces.lifetime + std::chrono::seconds(1));
        r.received = clock_.Now();
        break;
      case Method::kBasic:
        a_.digest_password.reset();
        EXPECT_TRUE(store_->UpdateDevice(a_));
        break;
      case Method::kIpRange: ADD_FAILURE() << "a source range does not expire"; break;
    }
    return r;
  }

  // The nonce of the challenge a request for `target` without a credential gets.
  std::string ChallengedNonce(const std::string& target) {
    DeviceRequest ask = Request(target, std::nullopt);
    ask.methods = AllowedMethods{};
    const DeviceResponse challenge = pipeline_->Handle(ask);
    EXPECT_EQ(challenge.status, 401);
    return challenge.www_authenticate.empty()
               ? ""
               : defense::test_support::ChallengeNonce(challenge.www_authenticate.front());
  }

  core::Device c_;
  std::map<std::string, std::string> tokens_;  // MAC -> URL token
};

Challenge ChallengeIn(const DeviceResponse& r) {
  if (r.www_authenticate.empty()) return Challenge::kNone;
  for (const auto& value : r.www_authenticate) {
    if (value.find("stale=true") != std::string::npos) return Challenge::kStale;
  }
  return Challenge::kFresh;
}

TEST_P(IdentityRow, DecidesAsTheTableSays) {
  const Row& row = GetParam();
  SCOPED_TRACE(row.presents);
  DeviceRequest request;
  switch (row.what) {
    case Case::kRight: request = Present(a_, true); break;
    case Case::kWrong: request = Present(a_, false); break;
    case Case::kOtherDevice: request = Present(Other(), true); break;
    case Case::kExpired: request = Expired(); break;
    case Case::kReplayed:
      request = Present(a_, true);
      ASSERT_EQ(pipeline_->Handle(request).status, 200) << "the first use is served";
      break;
  }
  const DeviceResponse response = pipeline_->Handle(request);
  const auto record = test_support::AuditLines(dir_ / "audit.log").back();
  EXPECT_EQ(response.status, row.status);
  EXPECT_EQ(ChallengeIn(response), row.challenge);
  EXPECT_EQ(record.value("decision", ""), row.decision);
  EXPECT_EQ(record.value("reason", ""), row.reason);
  EXPECT_EQ(record.value("identity_source", ""), row.identity_source);
  EXPECT_EQ(record.value("device", ""), row.device);
}

INSTANTIATE_TEST_SUITE_P(EveryMethodAndCase, IdentityRow, ::testing::ValuesIn(ApplicableRows()),
                         [](const ::testing::TestParamInfo<Row>& row) { return std::string(row.param.name); });

}  // namespace
}  // namespace provgate::pipeline
