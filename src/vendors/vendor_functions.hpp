// The one shape of a vendor module: each vendor folder defines its functions and hands them
// to MakeVendor, so no vendor declares a class of its own and the Vendor interface is
// implemented once. The functions carry the trust level of the Vendor members they stand
// for (every argument is attacker-controlled) and must be thread-safe.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/mac_address.hpp"
#include "vendors/vendor.hpp"

namespace provgate::vendors {

struct VendorFunctions {
  std::string_view name;  // a constant, e.g. "yealink"
  // Required: Vendor::Route, Vendor::ParseUserAgent and Vendor::BootFiles.
  std::optional<FileRoute> (*route)(std::string_view file_name) = nullptr;
  UserAgentInfo (*parse_user_agent)(std::string_view user_agent) = nullptr;
  std::vector<std::string> (*boot_files)(const core::MacAddress& mac, std::string_view model) = nullptr;
  // Optional: a vendor without uploads, encryption or key files leaves these null and gets
  // the Vendor defaults (nothing routes, everything is served plain).
  std::optional<UploadRoute> (*route_upload)(std::string_view file_name) = nullptr;
  std::optional<EncryptionScheme> (*encryption)(const FileRoute& route) = nullptr;
  std::optional<KeyFileRoute> (*route_key_file)(std::string_view file_name) = nullptr;
  // Vendor::WebAdminPasswordKeys: constants, each cited in docs/vendors/<name>.md.
  std::vector<std::string_view> web_admin_password_keys;
};

// The Vendor whose members call `functions`. The required functions must be set.
std::unique_ptr<Vendor> MakeVendor(const VendorFunctions& functions);

}  // namespace provgate::vendors
