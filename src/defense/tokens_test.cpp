#include "defense/tokens.hpp"

#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "crypto/random.hpp"

namespace provgate::defense {
namespace {

TEST(Tokens, GeneratesDistinct160BitBase32Tokens) {
  ASSERT_TRUE(crypto::InitCrypto());
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const std::string t = GenerateToken();
    ASSERT_EQ(t.size(), kTokenLength);
    for (char c : t) ASSERT_TRUE((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7')) << t;
    seen.insert(t);
    // Every generated token is accepted by the path parser.
    ASSERT_TRUE(ParseTokenPath("/p/" + t + "/a.cfg")) << t;
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST(Tokens, HashIsSha256Hex) {
  EXPECT_EQ(HashToken("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Tokens, ParsesTokenPath) {
  const std::string token = "abcdefghijklmnopqrstuvwxyz234567";
  auto p = ParseTokenPath("/p/" + token + "/y000000000044.cfg?x=1");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->token, token);
  EXPECT_EQ(p->file, "y000000000044.cfg");
  auto q = ParseTokenPath("/prov/p/" + token + "/001565aabbcc.cfg", "/prov/p/");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->file, "001565aabbcc.cfg");
}

TEST(Tokens, RejectsMalformedTokenPaths) {
  const std::string token = "abcdefghijklmnopqrstuvwxyz234567";
  const std::vector<std::string> cases = {
      "/p/" + token,                                // no file
      "/p/" + token + "/",                          // empty file
      "/p/" + token + "/a/b.cfg",                   // extra segment
      "/p/" + token + "/..",                        //
      "/p/" + token + "/.",                         //
      "/p/" + token + "/a%2fb.cfg",                 // percent-encoding
      "/p/" + token.substr(0, 25) + "/a.cfg",       // below 128 bits
      "/p/" + std::string(65, 'a') + "/a.cfg",      // too long
      "/p/ABCDEFGHIJKLMNOPQRSTUVWXYZ234567/a.cfg",  // upper case
      "/p/abcdefghijklmnopqrstuvwxyz012345/a.cfg",  // 0 and 1 are not base32
      "/q/" + token + "/a.cfg",                     //
      "p/" + token + "/a.cfg",                      //
      "/p//" + token + "/a.cfg",                    //
      "/p/" + token + "/" + std::string(129, 'a'),  //
      "/p/" + token + std::string("/a\0b.cfg", 8),  // NUL
  };
  for (const std::string& bad : cases) {
    EXPECT_FALSE(ParseTokenPath(bad)) << bad;
  }
  EXPECT_FALSE(ParseTokenPath("/p/" + token + "/a.cfg", ""));
}

}  // namespace
}  // namespace provgate::defense
