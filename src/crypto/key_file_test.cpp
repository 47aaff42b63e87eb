#include "crypto/key_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>

#include "crypto/random.hpp"

namespace provgate::crypto {
namespace {

namespace fs = std::filesystem;

class KeyFile : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitCrypto());
    static std::atomic<int> counter{0};
    dir_ = fs::path(::testing::TempDir()) /
           ("provgate-keyfile-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = dir_ / "nonce.key";
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  fs::path path_;
};

TEST_F(KeyFile, CreatesPrivateKeyOnceAndReadsTheSameKeyBack) {
  auto first = OpenOrCreateKeyFile(path_, "nonce key file");
  ASSERT_TRUE(first) << first.error().message;
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(st.st_size, static_cast<off_t>(kKeyFileBytes));
  auto second = OpenOrCreateKeyFile(path_, "nonce key file");
  ASSERT_TRUE(second);
  EXPECT_EQ(*first, *second);
  // No temporary file is left beside the key.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);
}

TEST_F(KeyFile, RefusesKeyReadableByOthersNamingTheFix) {
  ASSERT_TRUE(OpenOrCreateKeyFile(path_, "nonce key file"));
  ASSERT_EQ(::chmod(path_.c_str(), 0644), 0);
  auto r = OpenOrCreateKeyFile(path_, "nonce key file");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("chmod 600"), std::string::npos);
  EXPECT_NE(r.error().message.find("nonce key file"), std::string::npos);
}

TEST_F(KeyFile, RefusesWrongSizeAndSymlink) {
  { std::ofstream(path_) << "short"; }
  ASSERT_EQ(::chmod(path_.c_str(), 0600), 0);
  EXPECT_FALSE(OpenOrCreateKeyFile(path_, "nonce key file"));
  const fs::path link = dir_ / "link.key";
  fs::create_symlink(path_, link);
  EXPECT_FALSE(OpenOrCreateKeyFile(link, "nonce key file"));
}

}  // namespace
}  // namespace provgate::crypto
