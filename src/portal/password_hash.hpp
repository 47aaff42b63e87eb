// Portal passwords as Argon2id strings (libsodium crypto_pwhash_str_alg with its
// "interactive" limits, 64 MiB and two passes, meant for online sign-in). The string carries
// its own salt and parameters, so stronger limits later still verify old hashes.
#pragma once

#include <string>
#include <string_view>

#include "base/result.hpp"

namespace provgate::portal {

inline constexpr size_t kMinPasswordLength = 12;
inline constexpr size_t kMaxPasswordLength = 256;

// kInvalidArgument for a password outside kMinPasswordLength-kMaxPasswordLength;
// kUnavailable when the hash cannot get its memory.
Result<std::string> HashPassword(std::string_view password);
// True when `password` matches `hash`; false for anything else, a malformed hash included.
bool VerifyPassword(const std::string& hash, std::string_view password);
// A hash of a random password, verified against when a user name is unknown, so that an
// unknown name costs what a wrong password costs.
const std::string& DummyPasswordHash();

}  // namespace provgate::portal
