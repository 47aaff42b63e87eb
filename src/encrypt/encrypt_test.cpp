// Each scheme is checked against the openssl command-line tool, an implementation nobody
// here wrote: our output must decrypt with the exact command documented in
// docs/encryption.md, and files openssl makes must decrypt with ours.
#include "encrypt/encrypt.hpp"
#include "base/file.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace provgate::encrypt {
namespace {

namespace fs = std::filesystem;
using vendors::Cipher;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "pg-encrypt-XXXXXX").string();
    path_ = mkdtemp(tmpl.data()) != nullptr ? fs::path(tmpl) : fs::path();
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void WriteFile(const fs::path& p, std::string_view data) {
  std::ofstream(p, std::ios::binary).write(data.data(), static_cast<std::streamsize>(data.size()));
}

std::string ReadFile(const fs::path& p) {
  auto bytes = ReadWholeFile(p);
  return bytes ? *bytes : std::string();
}

std::string Hex(std::string_view s) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

// Runs a shell command (arguments are test-controlled alphanumerics and temp paths) and
// returns its exit status.
int RunShell(const std::string& cmd) {
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return -1;
  std::array<char, 256> buf{};
  while (fgets(buf.data(), static_cast<int>(buf.size()), p) != nullptr) {
  }
  return pclose(p);
}

const std::string kPlain =
    "#!version:1.0.0.1\naccount.1.password = s3cret\nstatic.wui.https_enable = 0\n<xml a=\"&amp;\"/>\n";

TEST(Encrypt, GeneratesKeysOfTheRightShape) {
  auto y = GenerateKey(Cipher::kYealinkAes128Ecb);
  auto c = GenerateKey(Cipher::kOpenSslAes256CbcMd5);
  ASSERT_TRUE(y && c);
  EXPECT_EQ(y->size(), 16u);
  EXPECT_EQ(c->size(), 32u);
  for (char ch : *y + *c) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(ch))) << ch;
  EXPECT_NE(*GenerateKey(Cipher::kOpenSslAes256CbcMd5), *c);
}

TEST(Encrypt, OpenSslCliDecryptsTheCiscoGrandstreamFormat) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string key = *GenerateKey(Cipher::kOpenSslAes256CbcMd5);
  for (const std::string& plain : {kPlain, std::string(), std::string(16, 'x'), std::string(1000, '\n')}) {
    auto enc = Encrypt(Cipher::kOpenSslAes256CbcMd5, key, plain);
    ASSERT_TRUE(enc) << enc.error().message;
    EXPECT_TRUE(enc->starts_with("Salted__"));
    WriteFile(dir.path() / "profile.cfg", *enc);
    const std::string cmd = "openssl enc -d -aes-256-cbc -md md5 -k " + key + " -in " +
                            (dir.path() / "profile.cfg").string() + " -out " + (dir.path() / "out").string();
    ASSERT_EQ(RunShell(cmd), 0) << cmd;
    EXPECT_EQ(ReadFile(dir.path() / "out"), plain);
    // The same file with OpenSSL 3's default digest (SHA-256) must not decrypt to the text:
    // the digest is part of the format, and -md md5 is the one the phones use.
    const std::string sha = "openssl enc -d -aes-256-cbc -k " + key + " -in " + (dir.path() / "profile.cfg").string() +
                            " -out " + (dir.path() / "sha").string();
    if (RunShell(sha) == 0 && !plain.empty()) {
      EXPECT_NE(ReadFile(dir.path() / "sha"), plain);
    }
  }
}

TEST(Encrypt, DecryptsWhatTheOpenSslCliMakes) {
  TempDir dir;
  const std::string key = "SecretPhrase1234";
  WriteFile(dir.path() / "profile.xml", kPlain);
  const std::string cmd = "openssl enc -e -aes-256-cbc -md md5 -k " + key + " -in " +
                          (dir.path() / "profile.xml").string() + " -out " + (dir.path() / "profile.cfg").string();
  ASSERT_EQ(RunShell(cmd), 0);
  auto plain = Decrypt(Cipher::kOpenSslAes256CbcMd5, key, ReadFile(dir.path() / "profile.cfg"));
  ASSERT_TRUE(plain) << plain.error().message;
  EXPECT_EQ(*plain, kPlain);
  EXPECT_FALSE(Decrypt(Cipher::kOpenSslAes256CbcMd5, "wrong", ReadFile(dir.path() / "profile.cfg")) &&
               *Decrypt(Cipher::kOpenSslAes256CbcMd5, "wrong", ReadFile(dir.path() / "profile.cfg")) == kPlain);
}

TEST(Encrypt, OpenSslCliDecryptsTheYealinkFormatAndKeyFile) {
  TempDir dir;
  const std::string key = *GenerateKey(Cipher::kYealinkAes128Ecb);
  auto enc = Encrypt(Cipher::kYealinkAes128Ecb, key, kPlain);
  ASSERT_TRUE(enc);
  EXPECT_EQ(enc->size() % 16, 0u);
  WriteFile(dir.path() / "001565aabbcc.cfg", *enc);
  ASSERT_EQ(RunShell("openssl enc -d -aes-128-ecb -nopad -K " + Hex(key) + " -in " +
                     (dir.path() / "001565aabbcc.cfg").string() + " -out " + (dir.path() / "out").string()),
            0);
  std::string padded = ReadFile(dir.path() / "out");
  ASSERT_GE(padded.size(), kPlain.size());
  EXPECT_EQ(padded.substr(0, kPlain.size()), kPlain);
  EXPECT_EQ(padded.substr(kPlain.size()), std::string(padded.size() - kPlain.size(), '\0'));

  // The key file unwraps with the published compatibility key, exactly as documented.
  auto wrapped = WrapYealinkKey(key);
  ASSERT_TRUE(wrapped);
  EXPECT_EQ(wrapped->size(), 16u);
  WriteFile(dir.path() / "001565aabbcc_Security.enc", *wrapped);
  ASSERT_EQ(RunShell("openssl enc -d -aes-128-ecb -nopad -K " + Hex("EKs35XacP6eybA25") + " -in " +
                     (dir.path() / "001565aabbcc_Security.enc").string() + " -out " + (dir.path() / "key").string()),
            0);
  EXPECT_EQ(ReadFile(dir.path() / "key"), key);
  EXPECT_EQ(*UnwrapYealinkKey(*wrapped), key);
  EXPECT_EQ(*Decrypt(Cipher::kYealinkAes128Ecb, key, *enc), kPlain);
  // What the pipeline serves for a Yealink key-file route.
  EXPECT_EQ(*WrapKey(vendors::KeyWrap::kYealinkCompatibility, key), *wrapped);
}

TEST(Encrypt, RejectsBadKeysAndInputsWithoutThrowing) {
  EXPECT_FALSE(Encrypt(Cipher::kYealinkAes128Ecb, "short", kPlain));
  EXPECT_FALSE(Encrypt(Cipher::kOpenSslAes256CbcMd5, "", kPlain));
  EXPECT_FALSE(Encrypt(Cipher::kOpenSslAes256CbcMd5, std::string(300, 'k'), kPlain));
  EXPECT_FALSE(WrapYealinkKey("0123456789abcdef0"));
  EXPECT_FALSE(Decrypt(Cipher::kYealinkAes128Ecb, "0123456789abcdef", "abc"));
  EXPECT_FALSE(Decrypt(Cipher::kOpenSslAes256CbcMd5, "k", "Salted__"));
  EXPECT_FALSE(Decrypt(Cipher::kOpenSslAes256CbcMd5, "k", std::string(48, 'A')));
  EXPECT_FALSE(UnwrapYealinkKey(""));
}

}  // namespace
}  // namespace provgate::encrypt
