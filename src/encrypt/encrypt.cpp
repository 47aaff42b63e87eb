#include "encrypt/encrypt.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <memory>

namespace provgate::encrypt {
namespace {

using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

// Built into Yealink firmware and its encryption tool, and published (docs/vendors/yealink.md, docs/encryption.md): it
// keeps nothing secret, it only makes the key file unreadable at a glance.
constexpr std::string_view kYealinkCompatibilityKey = "EKs35XacP6eybA25";
constexpr std::string_view kSaltMagic = "Salted__";
constexpr std::size_t kSaltSize = 8;
constexpr std::size_t kBlock = 16;
constexpr std::size_t kMaxSecret = 256;
constexpr std::string_view kKeyAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

const unsigned char* Bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

// One EVP pass over `in`. `padding` false for ECB with our own NUL padding.
Result<std::string> RunCipher(const EVP_CIPHER* cipher, const unsigned char* key, const unsigned char* iv,
                              std::string_view in, bool encrypt, bool padding) {
  if (in.size() > static_cast<std::size_t>(INT32_MAX) - 2 * kBlock) {
    return Error::InvalidArgument("input too large");
  }
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  if (!ctx || EVP_CipherInit_ex(ctx.get(), cipher, nullptr, key, iv, encrypt ? 1 : 0) != 1) {
    return Error::Internal("cipher init failed");
  }
  EVP_CIPHER_CTX_set_padding(ctx.get(), padding ? 1 : 0);
  std::string out(in.size() + kBlock, '\0');
  int len = 0;
  auto* dst = reinterpret_cast<unsigned char*>(out.data());
  if (EVP_CipherUpdate(ctx.get(), dst, &len, Bytes(in), static_cast<int>(in.size())) != 1) {
    return Error::InvalidArgument("cipher update failed");
  }
  int tail = 0;
  if (EVP_CipherFinal_ex(ctx.get(), dst + len, &tail) != 1) {
    // Bad padding on decryption: wrong key or corrupt input.
    return Error::InvalidArgument("decryption failed (wrong key or corrupt file)");
  }
  out.resize(static_cast<std::size_t>(len) + static_cast<std::size_t>(tail));
  return out;
}

Result<std::string> YealinkEcb(std::string_view key, std::string_view in, bool encrypt) {
  if (key.size() != kBlock) return Error::InvalidArgument("Yealink keys are 16 characters");
  std::string data(in);
  if (encrypt) {
    // NUL padding to whole blocks, as the vendor tool's -nopad invocation requires; an empty
    // file still gets one block so the phone has something to decrypt.
    const std::size_t rem = data.size() % kBlock;
    if (rem != 0 || data.empty()) data.append(kBlock - rem, '\0');
  } else if (data.empty() || data.size() % kBlock != 0) {
    return Error::InvalidArgument("not a whole number of AES blocks");
  }
  PG_TRY(std::string out, RunCipher(EVP_aes_128_ecb(), Bytes(key), nullptr, data, encrypt, false));
  if (!encrypt) {
    while (!out.empty() && out.back() == '\0') out.pop_back();
  }
  return out;
}

struct KeyIv {
  std::array<unsigned char, 32> key{};
  std::array<unsigned char, 16> iv{};
};

Result<KeyIv> DeriveMd5(std::string_view secret, const unsigned char* salt) {
  if (secret.empty() || secret.size() > kMaxSecret) {
    return Error::InvalidArgument("secret must be 1..256 bytes");
  }
  KeyIv k;
  if (EVP_BytesToKey(EVP_aes_256_cbc(), EVP_md5(), salt, Bytes(secret), static_cast<int>(secret.size()), 1,
                     k.key.data(), k.iv.data()) != static_cast<int>(k.key.size())) {
    return Error::Internal("key derivation failed");
  }
  return k;
}

}  // namespace

Result<std::string> GenerateKey(vendors::Cipher cipher) {
  const std::size_t length = cipher == vendors::Cipher::kYealinkAes128Ecb ? 16 : 32;
  std::string key;
  key.reserve(length);
  // Rejection sampling: 62 symbols, accept bytes below 248 (= 4 * 62) to avoid modulo bias.
  while (key.size() < length) {
    std::array<unsigned char, 64> buf{};
    if (RAND_bytes(buf.data(), static_cast<int>(buf.size())) != 1) {
      return Error::Unavailable("random source failed");
    }
    for (unsigned char b : buf) {
      if (b >= 248 || key.size() == length) continue;
      key.push_back(kKeyAlphabet[b % kKeyAlphabet.size()]);
    }
  }
  return key;
}

Result<std::string> Encrypt(vendors::Cipher cipher, std::string_view key, std::string_view plain) {
  switch (cipher) {
    case vendors::Cipher::kYealinkAes128Ecb: return YealinkEcb(key, plain, true);
    case vendors::Cipher::kOpenSslAes256CbcMd5: {
      std::array<unsigned char, kSaltSize> salt{};
      if (RAND_bytes(salt.data(), static_cast<int>(salt.size())) != 1) {
        return Error::Unavailable("random source failed");
      }
      PG_TRY(KeyIv k, DeriveMd5(key, salt.data()));
      PG_TRY(std::string body, RunCipher(EVP_aes_256_cbc(), k.key.data(), k.iv.data(), plain, true, true));
      std::string out(kSaltMagic);
      out.append(reinterpret_cast<const char*>(salt.data()), salt.size());
      out += body;
      return out;
    }
  }
  return Error::InvalidArgument("unknown cipher");
}

Result<std::string> Decrypt(vendors::Cipher cipher, std::string_view key, std::string_view encrypted) {
  switch (cipher) {
    case vendors::Cipher::kYealinkAes128Ecb: return YealinkEcb(key, encrypted, false);
    case vendors::Cipher::kOpenSslAes256CbcMd5: {
      const std::size_t header = kSaltMagic.size() + kSaltSize;
      if (encrypted.size() < header + kBlock || !encrypted.starts_with(kSaltMagic) ||
          (encrypted.size() - header) % kBlock != 0) {
        return Error::InvalidArgument("not an OpenSSL salted file");
      }
      PG_TRY(KeyIv k, DeriveMd5(key, Bytes(encrypted.substr(kSaltMagic.size(), kSaltSize))));
      return RunCipher(EVP_aes_256_cbc(), k.key.data(), k.iv.data(), encrypted.substr(header), false, true);
    }
  }
  return Error::InvalidArgument("unknown cipher");
}

Result<std::string> WrapKey(vendors::KeyWrap wrap, std::string_view file_key) {
  switch (wrap) {
    case vendors::KeyWrap::kYealinkCompatibility: return WrapYealinkKey(file_key);
  }
  return Error::Internal("unknown key wrap");
}

Result<std::string> WrapYealinkKey(std::string_view file_key) {
  if (file_key.size() != kBlock) return Error::InvalidArgument("Yealink keys are 16 characters");
  return YealinkEcb(kYealinkCompatibilityKey, file_key, true);
}

Result<std::string> UnwrapYealinkKey(std::string_view key_file) {
  PG_TRY(std::string key, YealinkEcb(kYealinkCompatibilityKey, key_file, false));
  if (key.size() != kBlock) return Error::InvalidArgument("not a Yealink key file");
  return key;
}

}  // namespace provgate::encrypt
