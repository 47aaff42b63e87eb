// Randomness and hashing helpers over libsodium/OpenSSL.
#pragma once

#include <cstddef>
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
std::string HexEncode(const unsigned char* data, size_t n);

// Compares without early exit; length difference still returns false.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace provgate::crypto
