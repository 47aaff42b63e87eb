#include "crypto/random.hpp"

#include <sodium.h>

#include <array>
#include <cstdint>
#include <cstdlib>

namespace provgate::crypto {
namespace {

// sodium_init is idempotent and thread-safe; the magic static makes the common path free.
int SodiumInitResult() {
  static const int rc = sodium_init();
  return rc;
}

// Functions without an error channel call this: running without a working CSPRNG would
// silently weaken every password and nonce, so failing hard is the only safe outcome.
void RequireSodium() {
  if (SodiumInitResult() < 0) std::abort();
}

constexpr size_t kMaxPasswordLength = 4096;

}  // namespace

Status InitCrypto() {
  if (SodiumInitResult() < 0) {
    return Error::Internal("libsodium initialisation failed (no usable random source?)");
  }
  return Ok();
}

std::vector<unsigned char> RandomBytes(size_t n) {
  RequireSodium();
  std::vector<unsigned char> out(n);
  if (n > 0) randombytes_buf(out.data(), n);
  return out;
}

Result<std::string> RandomPassword(size_t length, std::string_view alphabet) {
  if (length == 0) return Error::InvalidArgument("password length must be at least 1");
  if (length > kMaxPasswordLength) {
    return Error::InvalidArgument("password length must be at most 4096");
  }
  if (alphabet.size() < 2) {
    return Error::InvalidArgument("password alphabet must have at least 2 characters");
  }
  // A repeated character would be drawn twice as often, i.e. a biased password.
  std::array<bool, 256> seen{};
  for (char c : alphabet) {
    auto& slot = seen[static_cast<unsigned char>(c)];
    if (slot) return Error::InvalidArgument("password alphabet must not repeat characters");
    slot = true;
  }
  RequireSodium();
  // alphabet.size() <= 256 here (distinct bytes), so the cast is exact.
  const auto bound = static_cast<std::uint32_t>(alphabet.size());
  std::string out(length, '\0');
  for (auto& c : out) c = alphabet[randombytes_uniform(bound)];  // rejection sampling, no bias
  return out;
}

std::string Sha256Hex(std::string_view data) {
  Sha256 hash;
  hash.Update(data);
  return hash.FinishHex();
}

// libsodium's SHA-256 has no failure mode (no allocation, no provider lookup).
Sha256::Sha256() { crypto_hash_sha256_init(&state_); }

void Sha256::Update(std::string_view data) {
  crypto_hash_sha256_update(&state_, reinterpret_cast<const unsigned char*>(data.data()), data.size());
}

std::string Sha256::FinishHex() {
  std::array<unsigned char, crypto_hash_sha256_BYTES> digest{};
  crypto_hash_sha256_final(&state_, digest.data());
  return HexEncode(digest.data(), digest.size());
}

std::string HexEncode(const unsigned char* data, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[data[i] >> 4]);
    out.push_back(kDigits[data[i] & 0x0f]);
  }
  return out;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  // The length is not secret (tokens and hashes have fixed sizes); the contents are.
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace provgate::crypto
