// A secret key kept in a file of its own: created on first use (mode 0600, random bytes),
// refused when group or others can read it. Shared by the master key (SecretBox) and the
// audit signing key (SigningKey).
#pragma once

#include <filesystem>
#include <span>
#include <string_view>

#include "base/result.hpp"

namespace provgate::crypto {

// Names a key file in error messages: "<what> <path> ..." and why its permissions matter.
struct KeyFileKind {
  std::string_view what;      // e.g. "master key file"
  std::string_view protects;  // e.g. "every SIP password"
};

// Fills `key` with the file's bytes, creating the file with random bytes if it does not
// exist. Fails if it is readable by group/others or does not hold exactly key.size() bytes.
// Creation is atomic: the key is written and fsync'd under a temporary name and then
// hard-linked into place, so a concurrent opener sees either no file or the full key, and
// two processes racing to create it end up sharing one key. Symlinks are not followed.
// Errors: kFailedPrecondition for unsafe permissions (the message names the `chmod 600`
// fix), kInvalidArgument for a wrong size or a non-regular file, kInternal for I/O errors.
// `key` is wiped on failure.
Status OpenOrCreateKeyFile(const std::filesystem::path& path, std::span<unsigned char> key, const KeyFileKind& kind);

// Atomically replaces the key file `target` with the key file `staged` (rename, then the
// directory fsync'd): afterwards `staged` is gone and `target` holds its key, across a power
// cut too. kInternal for I/O errors.
Status ReplaceKeyFile(const std::filesystem::path& staged, const std::filesystem::path& target,
                      const KeyFileKind& kind);

}  // namespace provgate::crypto
