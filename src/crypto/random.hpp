// Randomness and hashing helpers over libsodium/OpenSSL.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <sodium/crypto_hash_sha256.h>

#include "base/result.hpp"

namespace provgate::crypto {

// Must be called once before any other function here (libsodium's sodium_init).
Status InitCrypto();

std::vector<unsigned char> RandomBytes(size_t n);

// A password of `length` characters drawn uniformly from `alphabet` (no modulo bias).
Result<std::string> RandomPassword(size_t length, std::string_view alphabet);
inline constexpr std::string_view kDefaultPasswordAlphabet =
    "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

// Lowercase hex of SHA-256(data).
std::string Sha256Hex(std::string_view data);

// SHA-256 of data that arrives in pieces. Not thread-safe.
class Sha256 {
 public:
  Sha256();
  void Update(std::string_view data);
  // Lowercase hex of the digest of everything updated so far; ends the hash (no Update after).
  std::string FinishHex();

 private:
  crypto_hash_sha256_state state_;
};
std::string HexEncode(const unsigned char* data, size_t n);

// Compares without early exit; length difference still returns false.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace provgate::crypto
