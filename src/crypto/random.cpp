#include "crypto/random.hpp"

#include <openssl/evp.h>
#include <sodium.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <new>

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

// Fetched once: an implicit fetch by name on every hash would cost a provider lookup each.
// InitCrypto refuses to start without it, so a hash never meets a missing one mid-request.
const EVP_MD* Sha256Md() {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

}  // namespace

Status InitCrypto() {
  if (SodiumInitResult() < 0) {
    return Error::Internal("libsodium initialisation failed (no usable random source?)");
  }
  if (Sha256Md() == nullptr) {
    return Error::Internal(
        "OpenSSL offers no SHA-256 (an OpenSSL configuration that asks for a provider it cannot load, "
        "such as fips=yes without the FIPS provider?)");
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

// The default provider's SHA-256 fails only when memory does.
struct Sha256::Context {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md{EVP_MD_CTX_new(), &EVP_MD_CTX_free};
};

Sha256::Sha256() : ctx_(std::make_unique<Context>()) {
  if (!ctx_->md || Sha256Md() == nullptr || EVP_DigestInit_ex2(ctx_->md.get(), Sha256Md(), nullptr) != 1) {
    throw std::bad_alloc();
  }
}

Sha256::~Sha256() = default;

void Sha256::Update(std::string_view data) {
  if (EVP_DigestUpdate(ctx_->md.get(), data.data(), data.size()) != 1) throw std::bad_alloc();
}

Sha256::Digest Sha256::Finish() {
  Digest digest{};
  unsigned int size = 0;
  if (EVP_DigestFinal_ex(ctx_->md.get(), digest.data(), &size) != 1 || size != digest.size()) {
    throw std::bad_alloc();
  }
  return digest;
}

std::string Sha256::FinishHex() {
  const Digest digest = Finish();
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
