#include "crypto/signing_key.hpp"

#include <sodium.h>

#include "crypto/key_file.hpp"
#include "crypto/random.hpp"

namespace provgate::crypto {
namespace {

static_assert(SigningKey::kSeedSize == crypto_sign_SEEDBYTES);
static_assert(sizeof(std::array<unsigned char, 64>) == crypto_sign_SECRETKEYBYTES);

// Exactly `out.size()` bytes from lowercase or uppercase hex, nothing else.
bool DecodeHex(std::string_view hex, unsigned char* out, size_t size) {
  if (hex.size() != 2 * size) return false;
  size_t written = 0;
  return sodium_hex2bin(out, size, hex.data(), hex.size(), nullptr, &written, nullptr) == 0 && written == size;
}

}  // namespace

Result<SigningKey> SigningKey::OpenOrCreateKeyFile(const std::filesystem::path& path) {
  std::array<unsigned char, kSeedSize> seed{};
  PG_TRY_STATUS(
      crypto::OpenOrCreateKeyFile(path, seed, {"audit signing key file", "the audit trail's checkpoint signatures"}));
  SigningKey key = FromSeed(seed);
  sodium_memzero(seed.data(), seed.size());
  return key;
}

SigningKey SigningKey::FromSeed(const std::array<unsigned char, kSeedSize>& seed) {
  SigningKey key;
  std::array<unsigned char, crypto_sign_PUBLICKEYBYTES> pk{};
  crypto_sign_seed_keypair(pk.data(), key.secret_.data(), seed.data());
  key.public_hex_ = HexEncode(pk.data(), pk.size());
  return key;
}

SigningKey::~SigningKey() { sodium_memzero(secret_.data(), secret_.size()); }

std::string SigningKey::SignHex(std::string_view message) const {
  std::array<unsigned char, crypto_sign_BYTES> sig{};
  crypto_sign_detached(sig.data(), nullptr, reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                       secret_.data());
  return HexEncode(sig.data(), sig.size());
}

bool VerifySignature(std::string_view public_key_hex, std::string_view message, std::string_view signature_hex) {
  std::array<unsigned char, crypto_sign_PUBLICKEYBYTES> pk{};
  std::array<unsigned char, crypto_sign_BYTES> sig{};
  if (!DecodeHex(public_key_hex, pk.data(), pk.size()) || !DecodeHex(signature_hex, sig.data(), sig.size())) {
    return false;
  }
  return crypto_sign_verify_detached(sig.data(), reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                                     pk.data()) == 0;
}

}  // namespace provgate::crypto
