#include "vendors/gigaset/gigaset.hpp"

#include "vendors/internal/text.hpp"
#include "vendors/vendor_functions.hpp"

namespace provgate::vendors {
namespace {

using internal::AllOf;

constexpr std::size_t kMaxToken = 40;

bool IsModelChar(char c) { return internal::IsAlnum(c) || c == ' '; }
bool IsFirmwareChar(char c) { return internal::IsAlnum(c) || c == '.' || c == '+'; }

std::optional<FileRoute> Route(std::string_view file_name) {
  if (file_name.size() != 16 || !file_name.ends_with(".xml")) return std::nullopt;
  const std::string_view hex = file_name.substr(0, 12);
  auto mac = internal::MacFromHex(hex, internal::HexCase::kUpper);
  if (!mac) mac = internal::MacFromHex(hex, internal::HexCase::kLower);
  if (!mac) return std::nullopt;
  FileRoute r = internal::MakeRoute(FileScope::kDevice, "mac.xml", render::Format::kXml, internal::kXmlContentType);
  r.mac = *mac;
  return r;
}

// "Gigaset N870 IP PRO/83.V2.11.0+build.a546b91;7C2F80E0D605",
// "Gigaset N720 DM PRO/70.089.00.000.000;7C2F80CA21E4", "N510 IP PRO/42.245.00.000.000"
// (MAC optional), possibly followed by ";Handset=<n>".
UserAgentInfo ParseUserAgent(std::string_view user_agent) {
  if (user_agent.size() > internal::kMaxUserAgent) return {};
  std::string_view rest = user_agent;
  const bool branded = rest.starts_with("Gigaset ");
  if (branded) rest.remove_prefix(8);
  const std::size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return {};
  const std::string_view model = rest.substr(0, slash);
  if (model.empty() || model.size() > kMaxToken || !AllOf(model, IsModelChar)) return {};
  // Unbranded only in the documented "N510 IP PRO/..." shape.
  if (!branded && !(model.starts_with('N') && model.ends_with(" PRO"))) return {};
  UserAgentInfo info;
  info.model = std::string(model);
  rest.remove_prefix(slash + 1);
  const std::size_t semi = rest.find(';');
  const std::string_view firmware = rest.substr(0, semi);
  if (firmware.size() <= kMaxToken && AllOf(firmware, IsFirmwareChar)) info.firmware = std::string(firmware);
  if (semi != std::string_view::npos) {
    std::string_view tail = rest.substr(semi + 1);
    const std::string_view field = tail.substr(0, tail.find(';'));
    if (auto mac = internal::MacFromHex(field, internal::HexCase::kAny)) info.mac = *mac;
  }
  return info;
}

// <MAC>.xml (upper case, the DHCP-66 form).
std::vector<std::string> BootFiles(const core::MacAddress& mac, std::string_view /*model*/) {
  return {mac.Upper() + ".xml"};
}

}  // namespace

std::unique_ptr<Vendor> MakeGigasetVendor() {
  return MakeVendor({.name = "gigaset",
                     .route = Route,
                     .parse_user_agent = ParseUserAgent,
                     .boot_files = BootFiles,
                     .web_admin_password_keys = {"WebUIAccounts.1.Password"}});
}

}  // namespace provgate::vendors
