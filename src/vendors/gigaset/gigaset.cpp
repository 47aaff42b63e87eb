#include "vendors/gigaset/gigaset.hpp"

#include "vendors/internal/text.hpp"

namespace provgate::vendors {
namespace {

using internal::AllOf;

constexpr std::size_t kMaxToken = 40;

bool IsModelChar(char c) { return internal::IsAlnum(c) || c == ' '; }
bool IsFirmwareChar(char c) { return internal::IsAlnum(c) || c == '.' || c == '+'; }

}  // namespace

std::optional<FileRoute> GigasetVendor::Route(std::string_view file_name) const {
  if (file_name.size() != 16 || !file_name.ends_with(".xml")) return std::nullopt;
  const std::string_view hex = file_name.substr(0, 12);
  auto mac = internal::MacFromHex(hex, internal::HexCase::kUpper);
  if (!mac) mac = internal::MacFromHex(hex, internal::HexCase::kLower);
  if (!mac) return std::nullopt;
  FileRoute r = internal::MakeRoute(FileScope::kDevice, "mac.xml", render::Format::kXml,
                                    internal::kXmlContentType);
  r.mac = *mac;
  return r;
}

UserAgentInfo GigasetVendor::ParseUserAgent(std::string_view user_agent) const {
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

std::vector<std::string> GigasetVendor::BootFiles(const core::MacAddress& mac, std::string_view /*model*/) const {
  return {mac.Upper() + ".xml"};
}

}  // namespace provgate::vendors
