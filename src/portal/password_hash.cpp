#include "portal/password_hash.hpp"

#include <sodium.h>

#include "crypto/random.hpp"

namespace provgate::portal {
Result<std::string> HashPassword(std::string_view password) {
  if (password.size() < kMinPasswordLength || password.size() > kMaxPasswordLength) {
    return Error::InvalidArgument("a portal password has " + std::to_string(kMinPasswordLength) + " to " +
                                  std::to_string(kMaxPasswordLength) + " characters");
  }
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                            crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Error::Unavailable("out of memory while hashing a password");
  }
  return std::string(out);
}

bool VerifyPassword(const std::string& hash, std::string_view password) {
  if (password.size() > kMaxPasswordLength) return false;
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

const std::string& DummyPasswordHash() {
  static const std::string hash = [] {
    const auto random = crypto::RandomPassword(24, crypto::kDefaultPasswordAlphabet);
    auto h = HashPassword(random ? *random : std::string(24, 'x'));
    return h ? *h : std::string();
  }();
  return hash;
}

}  // namespace provgate::portal
