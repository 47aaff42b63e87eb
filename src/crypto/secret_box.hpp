// Authenticated encryption of secrets at rest (libsodium crypto_secretbox, XSalsa20-Poly1305)
// under one master key. The key file is created at first start with mode 0600; a key file
// that group or others can read is refused, because it would expose every SIP password.
#pragma once

#include <array>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace provgate::crypto {

class SecretBox {
 public:
  static constexpr size_t kKeySize = 32;

  // Loads the key from `path`, creating it (0600, random) if it does not exist.
  // Fails if the file is readable by group/others or has the wrong size.
  static Result<SecretBox> OpenOrCreateKeyFile(const std::filesystem::path& path);
  static SecretBox FromKey(const std::array<unsigned char, kKeySize>& key);

  // Returns nonce || ciphertext. Thread-safe.
  std::vector<unsigned char> Seal(std::string_view plaintext) const;
  // Fails on tampering or a wrong key. Thread-safe.
  Result<std::string> Open(const std::vector<unsigned char>& sealed) const;

 private:
  explicit SecretBox(const std::array<unsigned char, kKeySize>& key) : key_(key) {}
  std::array<unsigned char, kKeySize> key_;
};

}  // namespace provgate::crypto
