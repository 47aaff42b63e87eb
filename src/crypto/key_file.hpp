// A 32-byte random key kept in a file of its own, shared by every node that must agree on
// it (the digest nonce key). The file has the master key's rules: created at first start
// with mode 0600, refused when group or others can read it, never followed through a
// symlink, and created atomically so that nodes racing to create it end up with one key.
#pragma once

#include <array>
#include <filesystem>
#include <string_view>

#include "base/result.hpp"

namespace provgate::crypto {

inline constexpr size_t kKeyFileBytes = 32;
using FileKey = std::array<unsigned char, kKeyFileBytes>;

// Loads the key from `path`, creating it (0600, random, fsync'd, hard-linked into place) if
// it does not exist. `what` names the key in error messages ("nonce key file"). Errors:
// kFailedPrecondition for unsafe permissions (the message names the `chmod 600` fix),
// kInvalidArgument for a wrong size, a symlink or a non-regular file, kInternal for I/O.
// The caller wipes the returned key when done with it.
Result<FileKey> OpenOrCreateKeyFile(const std::filesystem::path& path, std::string_view what);

}  // namespace provgate::crypto
