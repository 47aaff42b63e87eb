#include "crypto/signing_key.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "crypto/random.hpp"

namespace provgate::crypto {
namespace {

namespace fs = std::filesystem;

fs::path FreshPath(const std::string& name) {
  auto p = fs::path(::testing::TempDir()) / (name + "-" + std::to_string(::getpid()));
  fs::remove(p);
  return p;
}

TEST(SigningKey, SignaturesVerifyOnlyForTheirMessageAndKey) {
  ASSERT_TRUE(InitCrypto());
  std::array<unsigned char, SigningKey::kSeedSize> seed{};
  seed.fill(7);
  const auto key = SigningKey::FromSeed(seed);
  seed.fill(8);
  const auto other = SigningKey::FromSeed(seed);
  const std::string sig = key.SignHex("checkpoint");
  EXPECT_EQ(sig.size(), 128u);
  EXPECT_EQ(key.public_key_hex().size(), 64u);
  EXPECT_TRUE(VerifySignature(key.public_key_hex(), "checkpoint", sig));
  EXPECT_FALSE(VerifySignature(key.public_key_hex(), "checkpoinT", sig));
  EXPECT_FALSE(VerifySignature(other.public_key_hex(), "checkpoint", sig));
  EXPECT_FALSE(VerifySignature(key.public_key_hex(), "checkpoint", sig.substr(2)));
  EXPECT_FALSE(VerifySignature("zz", "checkpoint", sig));
}

TEST(SigningKey, KeyFileIsCreatedPrivateAndLoadsTheSameKey) {
  const auto path = FreshPath("signing.key");
  auto first = SigningKey::OpenOrCreateKeyFile(path);
  ASSERT_TRUE(first) << first.error().message;
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600);
  EXPECT_EQ(st.st_size, 32);
  auto again = SigningKey::OpenOrCreateKeyFile(path);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->public_key_hex(), first->public_key_hex());
  ::chmod(path.c_str(), 0640);
  auto exposed = SigningKey::OpenOrCreateKeyFile(path);
  ASSERT_FALSE(exposed);
  EXPECT_NE(exposed.error().message.find("chmod 600"), std::string::npos);
  fs::remove(path);
}

}  // namespace
}  // namespace provgate::crypto
