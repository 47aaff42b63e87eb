#include "defense/tokens.hpp"

#include <algorithm>

#include "crypto/random.hpp"

namespace provgate::defense {
namespace {

constexpr char kBase32[] = "abcdefghijklmnopqrstuvwxyz234567";

bool IsTokenChar(char c) { return (c >= 'a' && c <= 'z') || (c >= '2' && c <= '7'); }

bool IsFileChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

}  // namespace

std::string GenerateToken() {
  const auto bytes = crypto::RandomBytes(kTokenBytes);
  std::string out;
  out.reserve(kTokenLength);
  // 20 bytes are exactly 32 groups of 5 bits: no padding, no partial group.
  unsigned buffer = 0;
  int bits = 0;
  for (unsigned char b : bytes) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out.push_back(kBase32[(buffer >> bits) & 0x1f]);
    }
    buffer &= (1u << bits) - 1;
  }
  return out;
}

std::string HashToken(std::string_view token) { return crypto::Sha256Hex(token); }

std::optional<TokenPath> ParseTokenPath(std::string_view target, std::string_view prefix) {
  std::string_view path = target.substr(0, target.find('?'));
  if (prefix.empty() || path.size() <= prefix.size() || path.substr(0, prefix.size()) != prefix) {
    return std::nullopt;
  }
  path.remove_prefix(prefix.size());
  const size_t slash = path.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const std::string_view token = path.substr(0, slash);
  const std::string_view file = path.substr(slash + 1);
  if (token.size() < kMinTokenLength || token.size() > kMaxTokenLength ||
      !std::all_of(token.begin(), token.end(), IsTokenChar)) {
    return std::nullopt;
  }
  if (file.empty() || file.size() > kMaxTokenFileLength || file == "." || file == ".." ||
      !std::all_of(file.begin(), file.end(), IsFileChar)) {
    return std::nullopt;
  }
  return TokenPath{std::string(token), std::string(file)};
}

}  // namespace provgate::defense
