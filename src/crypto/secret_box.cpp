#include "crypto/secret_box.hpp"

#include <sodium.h>

#include "crypto/key_file.hpp"
#include "crypto/random.hpp"

namespace provgate::crypto {
namespace {

static_assert(SecretBox::kKeySize == crypto_secretbox_KEYBYTES);
constexpr size_t kNonceSize = crypto_secretbox_NONCEBYTES;
constexpr size_t kTagSize = crypto_secretbox_MACBYTES;

using Key = std::array<unsigned char, SecretBox::kKeySize>;

constexpr KeyFileKind kMasterKeyFile{"master key file", "every SIP password"};

}  // namespace

Result<SecretBox> SecretBox::OpenOrCreateKeyFile(const std::filesystem::path& path) {
  PG_TRY_STATUS(InitCrypto());
  Key key{};
  PG_TRY_STATUS(crypto::OpenOrCreateKeyFile(path, key, kMasterKeyFile));
  SecretBox box = SecretBox::FromKey(key);
  sodium_memzero(key.data(), key.size());
  return box;
}

Status SecretBox::InstallKeyFile(const std::filesystem::path& staged, const std::filesystem::path& target) {
  return crypto::ReplaceKeyFile(staged, target, kMasterKeyFile);
}

SecretBox SecretBox::FromKey(const std::array<unsigned char, kKeySize>& key) { return SecretBox(key); }

SecretBox::~SecretBox() { sodium_memzero(key_.data(), key_.size()); }

std::vector<unsigned char> SecretBox::Seal(std::string_view plaintext) const {
  std::vector<unsigned char> out = RandomBytes(kNonceSize);
  out.resize(kNonceSize + kTagSize + plaintext.size());
  // Random 192-bit nonces: collisions are negligible for any number of seals we will do.
  crypto_secretbox_easy(out.data() + kNonceSize, reinterpret_cast<const unsigned char*>(plaintext.data()),
                        plaintext.size(), out.data(), key_.data());
  return out;
}

Result<std::string> SecretBox::Open(const std::vector<unsigned char>& sealed) const {
  if (sealed.size() < kNonceSize + kTagSize) {
    return Error::InvalidArgument("sealed secret is truncated");
  }
  std::string plain(sealed.size() - kNonceSize - kTagSize, '\0');
  if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(plain.data()), sealed.data() + kNonceSize,
                                 sealed.size() - kNonceSize, sealed.data(), key_.data()) != 0) {
    return Error::InvalidArgument("sealed secret failed authentication (wrong master key or corrupted data)");
  }
  return plain;
}

}  // namespace provgate::crypto
