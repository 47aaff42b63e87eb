// An Ed25519 signing key (libsodium crypto_sign) kept in a key file of its own (key_file.hpp:
// created on first use, mode 0600, refused when group or others can read it). The file holds
// the 32-byte seed; the public key is derived from it. Signatures and keys travel as
// lowercase hex.
#pragma once

#include <array>
#include <filesystem>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace provgate::crypto {

class SigningKey {
 public:
  static constexpr size_t kSeedSize = 32;

  // Loads the key from `path`, creating it if it does not exist (OpenOrCreateKeyFile).
  static Result<SigningKey> OpenOrCreateKeyFile(const std::filesystem::path& path);
  static SigningKey FromSeed(const std::array<unsigned char, kSeedSize>& seed);

  SigningKey(const SigningKey&) = default;
  SigningKey& operator=(const SigningKey&) = default;
  // Wipes the secret key so it does not linger in freed memory.
  ~SigningKey();

  // 64 hex digits.
  const std::string& public_key_hex() const { return public_hex_; }
  // The detached signature of `message`, 128 hex digits. Thread-safe.
  std::string SignHex(std::string_view message) const;

 private:
  SigningKey() = default;
  std::array<unsigned char, 64> secret_{};
  std::string public_hex_;
};

// True when `signature_hex` is a valid Ed25519 signature of `message` by `public_key_hex`;
// false for anything malformed.
bool VerifySignature(std::string_view public_key_hex, std::string_view message, std::string_view signature_hex);

}  // namespace provgate::crypto
