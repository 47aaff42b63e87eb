// The contract of a vendor module. Each vendor lives in its own folder under vendors/ and
// registers itself in vendors/registry.cpp; the pipeline only sees this interface, so
// adding a vendor never touches the pipeline.
// Trust level: every input here is attacker-controlled (request file names, User-Agent
// strings); implementations are exact-match tables and small parsers, never filesystem
// lookups, and each is fuzzed (fuzz/vendor_route_fuzz.cpp).
#pragma once

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
  std::string template_name;            // template in templates/<vendor>/, e.g. "mac.cfg"
  render::Format format = render::Format::kKeyValue;
  std::string content_type;             // e.g. "text/plain; charset=utf-8"
  std::optional<core::MacAddress> mac;  // set for kDevice
  std::string model_hint;               // e.g. Yealink model code "96" from y000000000096.cfg
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
