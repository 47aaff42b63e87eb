// Randomness and hashing helpers over libsodium/OpenSSL.
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

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

// SHA-256 of data that arrives in pieces: OpenSSL's, which uses the CPU's SHA extensions
// where it has them. Not thread-safe. Running out of memory throws std::bad_alloc.
class Sha256 {
 public:
  using Digest = std::array<unsigned char, 32>;
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(std::string_view data);
  // The digest of everything updated so far; ends the hash (no Update after).
  Digest Finish();
  // Finish(), as lowercase hex.
  std::string FinishHex();

 private:
  struct Context;
  std::unique_ptr<Context> ctx_;
};
std::string HexEncode(const unsigned char* data, size_t n);

// Compares without early exit; length difference still returns false.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace provgate::crypto
