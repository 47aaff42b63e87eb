#include "portal/totp.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cctype>

#include "crypto/random.hpp"

namespace provgate::portal {
namespace {

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

// Percent-encodes everything outside RFC 3986's unreserved set.
std::string UriEscape(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace

std::string Base32Encode(const std::vector<unsigned char>& bytes) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char b : bytes) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += kAlphabet[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += kAlphabet[(buffer << (5 - bits)) & 31];
  return out;
}

Result<std::vector<unsigned char>> Base32Decode(std::string_view text) {
  std::vector<unsigned char> out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    if (c == ' ' || c == '=') continue;
    const char upper = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
    const auto pos = kAlphabet.find(upper);
    if (pos == std::string_view::npos) return Error::InvalidArgument("not base32");
    buffer = (buffer << 5) | static_cast<std::uint32_t>(pos);
    bits += 5;
    if (bits >= 8) {
      out.push_back(static_cast<unsigned char>((buffer >> (bits - 8)) & 0xff));
      bits -= 8;
    }
  }
  return out;
}

std::string TotpCode(const std::vector<unsigned char>& secret, std::int64_t step) {
  std::array<unsigned char, 8> counter{};
  auto c = static_cast<std::uint64_t>(step);
  for (int i = 7; i >= 0; --i) {
    counter[static_cast<size_t>(i)] = static_cast<unsigned char>(c & 0xff);
    c >>= 8;
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int mac_len = 0;
  HMAC(EVP_sha1(), secret.data(), static_cast<int>(secret.size()), counter.data(), counter.size(), mac.data(),
       &mac_len);
  const size_t offset = mac[mac_len - 1] & 0x0f;
  const std::uint32_t binary = (static_cast<std::uint32_t>(mac[offset] & 0x7f) << 24) |
                               (static_cast<std::uint32_t>(mac[offset + 1]) << 16) |
                               (static_cast<std::uint32_t>(mac[offset + 2]) << 8) | mac[offset + 3];
  std::string code = std::to_string(binary % 1'000'000);
  return std::string(6 - code.size(), '0') + code;
}

std::optional<std::int64_t> MatchTotp(const std::vector<unsigned char>& secret, std::string_view code,
                                      std::int64_t now) {
  if (code.size() != 6) return std::nullopt;
  for (char ch : code) {
    if (ch < '0' || ch > '9') return std::nullopt;
  }
  const std::int64_t current = now / kTotpStepSeconds;
  std::optional<std::int64_t> matched;
  for (std::int64_t step = current - 1; step <= current + 1; ++step) {
    if (crypto::ConstantTimeEquals(TotpCode(secret, step), code)) matched = step;
  }
  return matched;
}

std::string OtpauthUri(std::string_view issuer, std::string_view account, const std::vector<unsigned char>& secret) {
  return "otpauth://totp/" + UriEscape(issuer) + ":" + UriEscape(account) + "?secret=" + Base32Encode(secret) +
         "&issuer=" + UriEscape(issuer) + "&algorithm=SHA1&digits=6&period=30";
}

}  // namespace provgate::portal
