// The client side of HTTP Digest and Basic, for tests: the Authorization values a phone
// sends. Never linked into the server.
#pragma once

#include <sodium.h>

#include <string>
#include <string_view>

#include "defense/digest.hpp"

namespace provgate::defense::test_support {

inline constexpr std::string_view kCnonce = "0a4f113b";

// "Digest ..." answering `nonce` for `user`/`password` with qop=auth, nonce-count `nc` (the 8
// hex digits as sent) and the cnonce kCnonce, for `method` on `uri`.
inline std::string DigestAuthorization(DigestAlgorithm algorithm, std::string_view user, std::string_view password,
                                       std::string_view realm, std::string_view nonce, std::string_view nc,
                                       std::string_view method, std::string_view uri) {
  const std::string ha1 = ComputeHa1(algorithm, user, realm, password);
  const std::string response = ComputeDigestResponse(algorithm, ha1, nonce, nc, kCnonce, method, uri);
  return "Digest username=\"" + std::string(user) + "\", realm=\"" + std::string(realm) + "\", nonce=\"" +
         std::string(nonce) + "\", uri=\"" + std::string(uri) +
         "\", algorithm=" + std::string(DigestAlgorithmName(algorithm)) + ", qop=auth, nc=" + std::string(nc) +
         ", cnonce=\"" + std::string(kCnonce) + "\", response=\"" + response + "\"";
}

// "Basic " + base64(user ":" password).
inline std::string BasicAuthorization(std::string_view user, std::string_view password) {
  const std::string pair = std::string(user) + ":" + std::string(password);
  std::string encoded(sodium_base64_ENCODED_LEN(pair.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(encoded.data(), encoded.size(), reinterpret_cast<const unsigned char*>(pair.data()), pair.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  encoded.resize(encoded.find('\0'));
  return "Basic " + encoded;
}

// The nonce parameter of a WWW-Authenticate challenge value; "" when it has none.
inline std::string ChallengeNonce(std::string_view challenge) {
  constexpr std::string_view kKey = "nonce=\"";
  const size_t start = challenge.find(kKey);
  if (start == std::string_view::npos) return "";
  const size_t end = challenge.find('"', start + kKey.size());
  if (end == std::string_view::npos) return "";
  return std::string(challenge.substr(start + kKey.size(), end - start - kKey.size()));
}

}  // namespace provgate::defense::test_support
