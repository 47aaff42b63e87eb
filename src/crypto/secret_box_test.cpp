#include "crypto/secret_box.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>

#include "crypto/random.hpp"

namespace provgate::crypto {
namespace {

namespace fs = std::filesystem;

std::array<unsigned char, SecretBox::kKeySize> FixedKey(unsigned char fill) {
  std::array<unsigned char, SecretBox::kKeySize> key{};
  key.fill(fill);
  return key;
}

// A private directory per test, removed afterwards.
class SecretBoxKeyFile : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitCrypto());
    static std::atomic<int> counter{0};
    dir_ = fs::path(::testing::TempDir()) /
           ("provgate-key-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = dir_ / "master.key";
  }
  void TearDown() override { fs::remove_all(dir_); }

  static mode_t Mode(const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0);
    return st.st_mode & 07777;
  }

  fs::path dir_;
  fs::path path_;
};

TEST(SecretBox, RoundTripsTextAndBinary) {
  auto box = SecretBox::FromKey(FixedKey(7));
  for (std::string plain :
       {std::string(), std::string("s3cret-SIP-pw"), std::string("\0\xff\n", 3), std::string(10000, 'x')}) {
    auto sealed = box.Seal(plain);
    EXPECT_EQ(sealed.size(), plain.size() + 40u);
    auto opened = box.Open(sealed);
    ASSERT_TRUE(opened) << opened.error().message;
    EXPECT_EQ(*opened, plain);
  }
}

TEST(SecretBox, SealUsesFreshNonce) {
  auto box = SecretBox::FromKey(FixedKey(7));
  EXPECT_NE(box.Seal("same"), box.Seal("same"));
}

TEST(SecretBox, DetectsTamperingAnywhere) {
  auto box = SecretBox::FromKey(FixedKey(7));
  const auto sealed = box.Seal("password123");
  for (size_t i = 0; i < sealed.size(); ++i) {
    auto tampered = sealed;
    tampered[i] ^= 0x01;
    auto opened = box.Open(tampered);
    ASSERT_FALSE(opened) << "byte " << i;
    EXPECT_EQ(opened.error().code, ErrorCode::kInvalidArgument);
  }
}

TEST(SecretBox, RejectsTruncatedInput) {
  auto box = SecretBox::FromKey(FixedKey(7));
  auto sealed = box.Seal("password123");
  EXPECT_FALSE(box.Open({}));
  sealed.resize(39);
  EXPECT_FALSE(box.Open(sealed));
}

TEST(SecretBox, WrongKeyFails) {
  auto sealed = SecretBox::FromKey(FixedKey(7)).Seal("password123");
  auto opened = SecretBox::FromKey(FixedKey(8)).Open(sealed);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(SecretBoxKeyFile, CreatesOwnerOnlyKeyFileOf32Bytes) {
  // A typical permissive umask must not leak into the key file's mode.
  const mode_t old_umask = ::umask(022);
  auto box = SecretBox::OpenOrCreateKeyFile(path_);
  ::umask(old_umask);
  ASSERT_TRUE(box) << box.error().message;
  EXPECT_EQ(Mode(path_), 0600u);
  EXPECT_EQ(fs::file_size(path_), SecretBox::kKeySize);
  // No temporary file is left behind.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);
}

TEST_F(SecretBoxKeyFile, ReopensTheSameKey) {
  auto first = SecretBox::OpenOrCreateKeyFile(path_);
  ASSERT_TRUE(first);
  auto sealed = first->Seal("password123");
  auto second = SecretBox::OpenOrCreateKeyFile(path_);
  ASSERT_TRUE(second) << second.error().message;
  auto opened = second->Open(sealed);
  ASSERT_TRUE(opened);
  EXPECT_EQ(*opened, "password123");
}

TEST_F(SecretBoxKeyFile, RefusesKeyReadableByGroupOrOthers) {
  ASSERT_TRUE(SecretBox::OpenOrCreateKeyFile(path_));
  for (mode_t mode : {0644u, 0640u, 0604u, 0660u, 0602u}) {
    ASSERT_EQ(::chmod(path_.c_str(), mode), 0);
    auto box = SecretBox::OpenOrCreateKeyFile(path_);
    ASSERT_FALSE(box) << std::oct << mode;
    EXPECT_EQ(box.error().code, ErrorCode::kFailedPrecondition);
    EXPECT_NE(box.error().message.find("chmod 600 " + path_.string()), std::string::npos) << box.error().message;
  }
  ASSERT_EQ(::chmod(path_.c_str(), 0400), 0);  // owner read-only is fine
  EXPECT_TRUE(SecretBox::OpenOrCreateKeyFile(path_));
}

TEST_F(SecretBoxKeyFile, RefusesWrongSize) {
  for (size_t size : {0u, 31u, 33u, 64u}) {
    {
      std::ofstream out(path_, std::ios::binary | std::ios::trunc);
      out << std::string(size, 'k');
    }
    ASSERT_EQ(::chmod(path_.c_str(), 0600), 0);
    auto box = SecretBox::OpenOrCreateKeyFile(path_);
    ASSERT_FALSE(box) << size;
    EXPECT_EQ(box.error().code, ErrorCode::kInvalidArgument);
  }
}

TEST_F(SecretBoxKeyFile, RefusesSymlink) {
  auto target = dir_ / "real.key";
  ASSERT_TRUE(SecretBox::OpenOrCreateKeyFile(target));
  fs::create_symlink(target, path_);
  auto box = SecretBox::OpenOrCreateKeyFile(path_);
  ASSERT_FALSE(box);
  EXPECT_EQ(box.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(SecretBoxKeyFile, ReportsMissingDirectory) {
  auto box = SecretBox::OpenOrCreateKeyFile(dir_ / "nope" / "master.key");
  ASSERT_FALSE(box);
  EXPECT_EQ(box.error().code, ErrorCode::kInternal);
}

}  // namespace
}  // namespace provgate::crypto
