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
  // Creation is atomic: the key is written and fsync'd under a temporary name and then
  // hard-linked into place, so a concurrent opener sees either no file or the full key, and
  // two processes racing to create it end up sharing one key. Symlinks are not followed.
  // Errors: kFailedPrecondition for unsafe permissions (the message names the `chmod 600`
  // fix), kInvalidArgument for a wrong size or a non-regular file, kInternal for I/O errors.
  static Result<SecretBox> OpenOrCreateKeyFile(const std::filesystem::path& path);
  // Atomically replaces the key file `target` with the key file `staged` (rename, then the
  // directory fsync'd), for master-key rotation: afterwards `staged` is gone and `target`
  // holds its key. kInternal for I/O errors.
  static Status InstallKeyFile(const std::filesystem::path& staged, const std::filesystem::path& target);
  static SecretBox FromKey(const std::array<unsigned char, kKeySize>& key);

  SecretBox(const SecretBox&) = default;
  SecretBox& operator=(const SecretBox&) = default;
  // Wipes the key so it does not linger in freed memory.
  ~SecretBox();

  // Returns nonce || ciphertext (24-byte random nonce, 16-byte tag). Thread-safe.
  std::vector<unsigned char> Seal(std::string_view plaintext) const;
  // Fails with kInvalidArgument on tampering, truncation or a wrong key. Thread-safe.
  Result<std::string> Open(const std::vector<unsigned char>& sealed) const;

 private:
  explicit SecretBox(const std::array<unsigned char, kKeySize>& key) : key_(key) {}
  std::array<unsigned char, kKeySize> key_;
};

}  // namespace provgate::crypto
