#include "crypto/random.hpp"

#include <gtest/gtest.h>

#include <set>

namespace provgate::crypto {
namespace {

class Random : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(InitCrypto()); }
};

TEST_F(Random, BytesHaveRequestedLengthAndDiffer) {
  EXPECT_TRUE(RandomBytes(0).empty());
  auto a = RandomBytes(32);
  auto b = RandomBytes(32);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
}

TEST_F(Random, PasswordRespectsLengthAndAlphabet) {
  for (size_t length : {1u, 12u, 64u}) {
    auto pw = RandomPassword(length, kDefaultPasswordAlphabet);
    ASSERT_TRUE(pw) << pw.error().message;
    EXPECT_EQ(pw->size(), length);
    for (char c : *pw) {
      EXPECT_NE(kDefaultPasswordAlphabet.find(c), std::string_view::npos) << c;
    }
  }
}

TEST_F(Random, PasswordDrawsFromWholeAlphabet) {
  // 4000 draws over 4 symbols: missing one has probability (3/4)^4000, i.e. never.
  auto pw = RandomPassword(4000, "ab#9");
  ASSERT_TRUE(pw);
  std::set<char> seen(pw->begin(), pw->end());
  EXPECT_EQ(seen, (std::set<char>{'a', 'b', '#', '9'}));
}

TEST_F(Random, PasswordRejectsBadArguments) {
  EXPECT_EQ(RandomPassword(0, kDefaultPasswordAlphabet).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(RandomPassword(12, "").error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(RandomPassword(12, "a").error().code, ErrorCode::kInvalidArgument);
  // A repeated character would make it twice as likely: biased.
  EXPECT_EQ(RandomPassword(12, "abca").error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(RandomPassword(1'000'000, "ab").error().code, ErrorCode::kInvalidArgument);
}

TEST(Sha256, MatchesKnownVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, FinishGivesTheRawDigest) {
  Sha256 hash;
  hash.Update("ab");
  hash.Update("c");
  const Sha256::Digest digest = hash.Finish();
  EXPECT_EQ(HexEncode(digest.data(), digest.size()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // Longer than a block, in uneven pieces (FIPS 180-2's two-block vector).
  Sha256 two_blocks;
  const std::string_view message = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  two_blocks.Update(message.substr(0, 7));
  two_blocks.Update(message.substr(7));
  EXPECT_EQ(two_blocks.FinishHex(), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, InPiecesEqualsAtOnce) {
  Sha256 hash;
  hash.Update("a");
  hash.Update("");
  hash.Update("bc");
  EXPECT_EQ(hash.FinishHex(), Sha256Hex("abc"));
}

TEST(HexEncode, IsLowercaseTwoDigitsPerByte) {
  const unsigned char bytes[] = {0x00, 0x0f, 0xa0, 0xff};
  EXPECT_EQ(HexEncode(bytes, sizeof bytes), "000fa0ff");
  EXPECT_EQ(HexEncode(bytes, 0), "");
}

TEST(ConstantTimeEquals, ComparesContentAndLength) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("token", "token"));
  EXPECT_FALSE(ConstantTimeEquals("token", "tokeN"));
  EXPECT_FALSE(ConstantTimeEquals("token", "token2"));
  EXPECT_FALSE(ConstantTimeEquals("", "x"));
}

}  // namespace
}  // namespace provgate::crypto
