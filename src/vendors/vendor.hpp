// The contract of a vendor module. Each vendor lives in its own folder under vendors/,
// defines its functions (vendors/vendor_functions.hpp) and is listed in vendors/registry.cpp;
// the pipeline only sees this interface, so adding a vendor never touches the pipeline.
// Trust level: every input here is attacker-controlled (request file names, User-Agent
// strings); implementations are exact-match tables and small parsers, never filesystem
// lookups, and each is fuzzed (fuzz/vendor_route_fuzz.cpp).
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/mac_address.hpp"
#include "render/escape.hpp"

namespace provgate::vendors {

enum class FileScope {
  kCommon,  // shared by all devices of the vendor or model; never contains per-device secrets
  kDevice,  // one device's file; the route's MAC must equal the authenticated device's
};

struct FileRoute {
  FileScope scope = FileScope::kCommon;
  std::string template_name;  // template in templates/<vendor>/, e.g. "mac.cfg"
  render::Format format = render::Format::kKeyValue;
  std::string_view content_type;        // a constant, e.g. "text/plain; charset=utf-8"
  std::optional<core::MacAddress> mac;  // set for kDevice
  std::string model_hint;               // e.g. Yealink model code "96" from y000000000096.cfg
};

// A file the phone may upload (HTTP PUT) to its own slot. Only names on a vendor's allow-list
// route; the MAC in the name must be the authenticated device's (the same rule as kDevice
// routes), and uploads are stored apart from generated files and never feed rendering.
struct UploadRoute {
  core::MacAddress mac;
  std::string kind;           // stable slot name, e.g. "phone-overrides", "app-log"
  std::size_t max_bytes = 0;  // refuse larger bodies before reading them
};

// How a route's rendered bytes are encrypted for the phone (src/encrypt implements each).
enum class Cipher {
  // Yealink compatibility mode: AES-128-ECB, key = 16 random ASCII characters, plaintext
  // padded with NUL bytes to the block size; the key itself travels in a key file wrapped
  // with Yealink's published built-in key (obfuscation only).
  kYealinkAes128Ecb,
  // `openssl enc -aes-256-cbc -md md5 -k <secret>`: "Salted__" + 8-byte salt + CBC/PKCS#7
  // with key and IV from EVP_BytesToKey(MD5, 1 iteration). Cisco SPA/MPP, Grandstream.
  kOpenSslAes256CbcMd5,
};

// How the per-device key reaches the phone before it can decrypt.
enum class KeyDelivery {
  // A separate key file (Yealink `<name>_Security.enc`), see Vendor::RouteKeyFile.
  kKeyFile,
  // Rendered into a plain device file fetched earlier in the same resync over the
  // authenticated channel (Cisco: `Profile_Rule_C = [--key "<key>"] .../$MA.cfg`).
  kPlainBootstrapFile,
  // Rendered into this same file's plain copy (Grandstream P1359 /
  // provisioning.config.filePassword); encrypt only once a plain copy carrying the key has
  // been delivered, like a deliver-once password.
  kPriorPlainCopy,
};

struct EncryptionScheme {
  Cipher cipher = Cipher::kOpenSslAes256CbcMd5;
  KeyDelivery delivery = KeyDelivery::kPlainBootstrapFile;
  // The render variable under which templates expect the device's key (set on the device
  // layer, stored encrypted at rest like a SIP password).
  std::string key_variable = "config_key";
  // true: serve this route only encrypted; without a key for the device, refuse it (the
  // file exists to carry secrets in encrypted form only). false: encrypt when a key exists.
  bool required = false;
};

// How a key file carries the device's key (encrypt::WrapKey).
enum class KeyWrap {
  // AES-128-ECB under Yealink's published compatibility key (obfuscation only).
  kYealinkCompatibility,
};

// A key file the phone fetches beside an encrypted file (Yealink compatibility mode).
struct KeyFileRoute {
  core::MacAddress mac;
  std::string protected_file;  // the file whose key this is, e.g. "001565aabbcc.cfg"
  KeyWrap wrap = KeyWrap::kYealinkCompatibility;
};

struct UserAgentInfo {
  std::string model;
  std::string firmware;
  std::optional<core::MacAddress> mac;
};

class Vendor {
 public:
  virtual ~Vendor() = default;
  virtual std::string_view name() const = 0;  // "yealink"
  // Maps a requested file name (one path segment, exactly as received) to a file of this
  // vendor; nullopt when the vendor has no such file. Thread-safe.
  virtual std::optional<FileRoute> Route(std::string_view file_name) const = 0;
  // Best-effort parse; fields stay empty when the UA does not carry them. Thread-safe.
  virtual UserAgentInfo ParseUserAgent(std::string_view user_agent) const = 0;

  // The extensions below default to "none" for vendors without uploads, encryption or key files.

  // Maps a file name the phone uploads to its allow-listed slot; nullopt for everything
  // else (including every name Route accepts: uploads never overwrite generated files).
  // Thread-safe, same trust level as Route.
  virtual std::optional<UploadRoute> RouteUpload(std::string_view /*file_name*/) const { return std::nullopt; }

  // The encryption this vendor applies to `route` (a value Route returned), or nullopt when
  // the file is always served plain. The pipeline, after rendering: if a scheme is returned
  // and the device has a key under scheme.key_variable, encrypt with encrypt::Encrypt; if it
  // has none and scheme.required, refuse like an unknown file. Thread-safe.
  virtual std::optional<EncryptionScheme> Encryption(const FileRoute& /*route*/) const { return std::nullopt; }

  // Maps a key-file name (KeyDelivery::kKeyFile) to the device and the file it unlocks; the
  // pipeline answers with encrypt::WrapKey(route.wrap, <device key>). nullopt for other names.
  virtual std::optional<KeyFileRoute> RouteKeyFile(std::string_view /*file_name*/) const { return std::nullopt; }

  // The files a device of `model` (as stored for the device) fetches in one boot, in request
  // order, spelled exactly as the phone requests them: every name routes (Route is set) and
  // every device file's route carries `mac`. Files the vendor only fetches as a fallback (a
  // default master, a common boot file for phones without their own) are left out, since
  // provgate always serves the device's own. Models the vendor module cannot name a model file
  // for get only their device files. Used by the policy linter to render what a phone reads.
  virtual std::vector<std::string> BootFiles(const core::MacAddress& /*mac*/, std::string_view /*model*/) const {
    return {};
  }

  // The keys of this vendor's device files that set the phone's web admin password (rendered
  // from `admin_password`), each cited in docs/vendors/<vendor>.md. Empty: no sourced key is
  // known, so provgate cannot set the password and refuses an engineer password for it.
  virtual std::vector<std::string_view> WebAdminPasswordKeys() const { return {}; }
};

class Registry {
 public:
  void Add(std::unique_ptr<Vendor> v);
  const Vendor* Find(std::string_view name) const;  // nullptr when unknown
  std::vector<std::string> Names() const;

 private:
  std::vector<std::unique_ptr<Vendor>> vendors_;
};

// All vendors shipped with provgate.
Registry BuiltinVendors();

}  // namespace provgate::vendors
