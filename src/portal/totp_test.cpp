#include "portal/totp.hpp"

#include <gtest/gtest.h>

namespace provgate::portal {
namespace {

// RFC 6238 appendix B, SHA-1 secret "12345678901234567890": the last six of its 8 digits.
std::vector<unsigned char> RfcSecret() {
  const std::string s = "12345678901234567890";
  return {s.begin(), s.end()};
}

TEST(Totp, MatchesRfc6238Vectors) {
  const struct {
    std::int64_t time;
    const char* code;
  } cases[] = {{59, "287082"},         {1111111109, "081804"}, {1111111111, "050471"},
               {1234567890, "005924"}, {2000000000, "279037"}, {20000000000, "353130"}};
  for (const auto& c : cases) EXPECT_EQ(TotpCode(RfcSecret(), c.time / kTotpStepSeconds), c.code) << c.time;
}

TEST(Totp, AcceptsOneStepOfSkewEitherWayAndNoMore) {
  const auto secret = RfcSecret();
  const std::int64_t now = 1'700'000'010;
  const std::int64_t step = now / kTotpStepSeconds;
  EXPECT_EQ(MatchTotp(secret, TotpCode(secret, step), now), step);
  EXPECT_EQ(MatchTotp(secret, TotpCode(secret, step - 1), now), step - 1);
  EXPECT_EQ(MatchTotp(secret, TotpCode(secret, step + 1), now), step + 1);
  EXPECT_FALSE(MatchTotp(secret, TotpCode(secret, step - 2), now));
  EXPECT_FALSE(MatchTotp(secret, TotpCode(secret, step + 2), now));
}

TEST(Totp, RejectsCodesThatAreNotSixDigits) {
  const auto secret = RfcSecret();
  EXPECT_FALSE(MatchTotp(secret, "", 59));
  EXPECT_FALSE(MatchTotp(secret, "28708", 59));
  EXPECT_FALSE(MatchTotp(secret, "2870820", 59));
  EXPECT_FALSE(MatchTotp(secret, "28708x", 59));
}

TEST(Base32, RoundTripsAndMatchesRfc4648) {
  const std::string foobar = "foobar";
  EXPECT_EQ(Base32Encode({foobar.begin(), foobar.end()}), "MZXW6YTBOI");
  const auto decoded = Base32Decode("mzxw6ytboi======");
  ASSERT_TRUE(decoded);
  EXPECT_EQ(std::string(decoded->begin(), decoded->end()), foobar);
  EXPECT_FALSE(Base32Decode("MZXW1"));
}

TEST(Totp, OtpauthUriNamesIssuerAccountAndSecret) {
  EXPECT_EQ(OtpauthUri("provgate", "ann smith", RfcSecret()),
            "otpauth://totp/provgate:ann%20smith?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=provgate"
            "&algorithm=SHA1&digits=6&period=30");
}

}  // namespace
}  // namespace provgate::portal
