// Time-based one-time passwords (RFC 6238 over RFC 4226): HMAC-SHA1, 30-second steps,
// 6 digits, the secret as unpadded RFC 4648 base32 for authenticator apps.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace provgate::portal {

inline constexpr std::int64_t kTotpStepSeconds = 30;
inline constexpr size_t kTotpSecretBytes = 20;  // 160 bits, RFC 4226's recommendation

// RFC 4648 base32, upper case, without padding.
std::string Base32Encode(const std::vector<unsigned char>& bytes);
// Accepts upper or lower case, ignores spaces and padding; kInvalidArgument otherwise.
Result<std::vector<unsigned char>> Base32Decode(std::string_view text);

// The 6-digit code of `secret` for time step `step` (RFC 4226 HOTP with the step as counter).
std::string TotpCode(const std::vector<unsigned char>& secret, std::int64_t step);

// The time step of `code` at unix time `now`, allowing one step of clock skew either way;
// nothing when the code matches none of them (or is not six digits). Compares in constant
// time. Reuse is the caller's check (UserStore::AcceptTotpStep).
std::optional<std::int64_t> MatchTotp(const std::vector<unsigned char>& secret, std::string_view code,
                                      std::int64_t now);

// otpauth://totp/<issuer>:<account>?secret=...&issuer=... for authenticator apps.
std::string OtpauthUri(std::string_view issuer, std::string_view account, const std::vector<unsigned char>& secret);

}  // namespace provgate::portal
