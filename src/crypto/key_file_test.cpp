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

  // Opens path_ (or `path`) as the nonce key file, into key_.
  Status Open(const fs::path& path) { return OpenOrCreateKeyFile(path, key_, {"nonce key file", "digest nonces"}); }
  Status Open() { return Open(path_); }

  fs::path dir_;
  fs::path path_;
  std::array<unsigned char, 32> key_{};
};

TEST_F(KeyFile, CreatesPrivateKeyOnceAndReadsTheSameKeyBack) {
  auto first = Open();
  ASSERT_TRUE(first) << first.error().message;
  const auto first_key = key_;
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(st.st_size, static_cast<off_t>(key_.size()));
  key_ = {};
  ASSERT_TRUE(Open());
  EXPECT_EQ(key_, first_key);
  // No temporary file is left beside the key.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);
}

TEST_F(KeyFile, RefusesKeyReadableByOthersNamingTheFix) {
  ASSERT_TRUE(Open());
  ASSERT_EQ(::chmod(path_.c_str(), 0644), 0);
  auto r = Open();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("chmod 600"), std::string::npos);
  EXPECT_NE(r.error().message.find("nonce key file"), std::string::npos);
}

TEST_F(KeyFile, RefusesWrongSizeAndSymlink) {
  { std::ofstream(path_) << "short"; }
  ASSERT_EQ(::chmod(path_.c_str(), 0600), 0);
  EXPECT_FALSE(Open());
  const fs::path link = dir_ / "link.key";
  fs::create_symlink(path_, link);
  EXPECT_FALSE(Open(link));
}

}  // namespace
}  // namespace provgate::crypto
