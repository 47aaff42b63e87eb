// Config-file encryption in the formats phones decrypt (vendors::Cipher), each verifiable
// with the openssl CLI (docs/encryption.md). Keys are per device, generated here from the
// OpenSSL CSPRNG, stored by the caller encrypted at rest like a SIP password, and delivered
// only over an authenticated channel.
//
// What this is not: protection against anyone holding the key. Yealink's key files are
// wrapped with a key published in firmware and tools (obfuscation only), and the OpenSSL
// password format derives its key with one MD5 round. Confidentiality on the wire comes from
// TLS; these formats exist because the phones want them, and so that a file at rest or in a
// cache does not show SIP passwords in clear.
//
// Thread-safe: every function is reentrant. Errors are values; nothing throws.
#pragma once

#include <string>
#include <string_view>

#include "base/result.hpp"
#include "vendors/vendor.hpp"

namespace provgate::encrypt {

// A fresh key for `cipher`: 16 characters from [A-Za-z0-9] for kYealinkAes128Ecb (the phone
// uses the 16 ASCII bytes as the AES-128 key), 32 such characters for kOpenSslAes256CbcMd5
// (an OpenSSL -k secret; it must survive the Cisco `--key "..."` rule and Grandstream's web
// UI, hence no punctuation). kUnavailable if the CSPRNG fails.
Result<std::string> GenerateKey(vendors::Cipher cipher);

// Encrypts `plain` with `key` in the cipher's file format:
//  - kYealinkAes128Ecb: `key` must be exactly 16 bytes; the plaintext is padded with NUL
//    bytes to a multiple of 16 (an empty file becomes one block of NULs) and encrypted with
//    AES-128-ECB; `openssl enc -d -aes-128-ecb -nopad -K <hex(key)>` gives the padded text.
//  - kOpenSslAes256CbcMd5: "Salted__" + 8 random salt bytes + AES-256-CBC (PKCS#7) with key
//    and IV = EVP_BytesToKey(MD5, salt, key, 1 round); `openssl enc -d -aes-256-cbc -md md5
//    -k <key>` gives `plain`. `key` must be 1..256 bytes.
// kInvalidArgument on a bad key; kInternal if OpenSSL fails.
Result<std::string> Encrypt(vendors::Cipher cipher, std::string_view key, std::string_view plain);

// The inverse of Encrypt, for tests and operator tooling (the NUL padding of the Yealink
// format is stripped). kInvalidArgument on a malformed or undecryptable input.
Result<std::string> Decrypt(vendors::Cipher cipher, std::string_view key, std::string_view encrypted);

// Yealink's `<name>_Security.enc`: the 16-character file key encrypted with AES-128-ECB
// under the firmware's published compatibility key (docs/vendors/yealink.md, docs/encryption.md). Obfuscation only:
// anyone can unwrap it. kInvalidArgument unless `file_key` is 16 bytes.
Result<std::string> WrapYealinkKey(std::string_view file_key);
// The content of a key file that carries `file_key` the way `wrap` says.
Result<std::string> WrapKey(vendors::KeyWrap wrap, std::string_view file_key);
Result<std::string> UnwrapYealinkKey(std::string_view key_file);

}  // namespace provgate::encrypt
