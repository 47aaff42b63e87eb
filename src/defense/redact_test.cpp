#include "defense/redact.hpp"

#include <gtest/gtest.h>

namespace provgate::defense {
namespace {

TEST(RedactTarget, HidesTokensAndQueries) {
  const struct {
    const char* in;
    const char* out;
  } cases[] = {
      {"/p/abcdefghijklmnopqrstuvwxyz234567/y000000000044.cfg", "/p/[redacted]/y000000000044.cfg"},
      {"/p/short/a.cfg", "/p/[redacted]/a.cfg"},  // malformed tokens may still be real ones
      {"/p/tok", "/p/[redacted]"},
      {"/prov/p/x/a.cfg?token=secret", "/prov/p/[redacted]/a.cfg?[redacted]"},
      {"/001565aabbcc.cfg", "/001565aabbcc.cfg"},
      {"/001565aabbcc.cfg?mac=1", "/001565aabbcc.cfg?[redacted]"},
      {"/x/ABCDEFGHIJKLMNOPQRSTUVWXYZ234567/a.cfg", "/x/[redacted]/a.cfg"},
      {"/p/", "/p/"},
      {"", ""},
      {"/p//a", "/p//a"},
  };
  for (const auto& c : cases) EXPECT_EQ(RedactTarget(c.in), c.out) << c.in;
}

// Found by the token_path fuzzer: a file name may repeat the token's characters or look
// like a token itself; the token segment is what must never survive.
TEST(RedactTarget, RedactsTokenSegmentEvenWhenFileNameRepeatsIt) {
  EXPECT_EQ(RedactTarget("/p/abcdefghijklmnopqrstuvwxyz/xabcdefghijklmnopqrstuvwxyz.cfg"),
            "/p/[redacted]/xabcdefghijklmnopqrstuvwxyz.cfg");
  EXPECT_EQ(RedactTarget("/p/abcdefghijklmnopqrstuvwxyz/abcdefghijklmnopqrstuvwxyz"), "/p/[redacted]/[redacted]");
}

TEST(RedactAuthorization, KeepsSchemeAndDigestUserOnly) {
  EXPECT_EQ(RedactAuthorization("Basic dXNlcjpwYXNz"), "Basic [redacted]");
  EXPECT_EQ(RedactAuthorization("Bearer abc.def"), "Bearer [redacted]");
  EXPECT_EQ(RedactAuthorization("dXNlcjpwYXNz"), "[redacted]");
  EXPECT_EQ(RedactAuthorization(""), "[redacted]");
  EXPECT_EQ(RedactAuthorization("Basic"), "[redacted]");
  const std::string digest =
      "Digest username=\"001565aabbcc\", realm=\"r\", nonce=\"n\", uri=\"/x\", qop=auth, "
      "nc=00000001, cnonce=\"c\", response=\"0123456789abcdef0123456789abcdef\"";
  const std::string redacted = RedactAuthorization(digest);
  EXPECT_EQ(redacted, "Digest username=\"001565aabbcc\", [redacted]");
  EXPECT_EQ(redacted.find("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(RedactAuthorization("Digest response=\"0123\""), "Digest [redacted]");
}

}  // namespace
}  // namespace provgate::defense
