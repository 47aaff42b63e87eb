// Per-device URL tokens: the secret in `/p/<token>/<file>` for phones without a usable
// certificate. A token is shown once (at creation or re-activation) and stored only as its
// SHA-256, so the database never holds one; the lookup is by hash, so comparing tokens never
// touches secret bytes in variable time.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace provgate::defense {

// Tokens are lowercase RFC 4648 base32 ([a-z2-7]) without padding.
inline constexpr size_t kTokenBytes = 20;      // 160 bits of libsodium randomness
inline constexpr size_t kTokenLength = 32;     // what GenerateToken returns
inline constexpr size_t kMinTokenLength = 26;  // 128 bits: the least ParseTokenPath accepts
inline constexpr size_t kMaxTokenLength = 64;
inline constexpr size_t kMaxTokenFileLength = 128;

// A fresh 160-bit token, 32 characters. Thread-safe.
std::string GenerateToken();

// Lowercase hex SHA-256 of the token text: the only form the store keeps.
std::string HashToken(std::string_view token);

struct TokenPath {
  std::string token;
  std::string file;
};

// Splits `prefix` + token + "/" + file (default prefix "/p/"), ignoring a query string.
// The token must be kMinTokenLength..kMaxTokenLength characters of [a-z2-7]; the file one
// segment of [A-Za-z0-9._-], 1..kMaxTokenFileLength, not "." or "..". Anything else
// (percent-encoding, extra segments, upper case) is nullopt: the caller answers with the
// uniform refusal.
std::optional<TokenPath> ParseTokenPath(std::string_view target, std::string_view prefix = "/p/");

}  // namespace provgate::defense
