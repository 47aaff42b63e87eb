#include "vendors/htek/htek.hpp"

#include <utility>

#include "vendors/internal/text.hpp"
#include "vendors/vendor_functions.hpp"

namespace provgate::vendors {
namespace {

using internal::AllOf;

constexpr std::size_t kMaxToken = 32;

std::optional<FileRoute> Route(std::string_view file_name) {
  if (!file_name.starts_with("cfg") || !file_name.ends_with(".xml") || file_name.size() > 19) {
    return std::nullopt;
  }
  const std::string_view stem = file_name.substr(3, file_name.size() - 7);
  // Model files: four decimal digits (cfg0010.xml); the code names the model family.
  if (stem.size() == 4 && AllOf(stem, internal::IsDigit)) {
    FileRoute r = internal::XmlRoute(FileScope::kCommon, "model.xml");
    r.model_hint = std::string(stem);
    return r;
  }
  if (stem.size() != 12 || !AllOf(stem, internal::IsLowerHex)) return std::nullopt;
  auto mac = internal::MacFromHex(stem, internal::HexCase::kLower);
  if (!mac) return std::nullopt;
  FileRoute r = internal::XmlRoute(FileScope::kDevice, "mac.xml");
  r.mac = *mac;
  return r;
}

// "Htek UC903 2.0.4.2 00:1f:c1:1c:22:a9": exactly four tokens, the MAC with colons.
UserAgentInfo ParseUserAgent(std::string_view user_agent) {
  if (user_agent.size() > internal::kMaxUserAgent) return {};
  const auto tokens = internal::Tokens(user_agent);
  if (tokens.size() < 2 || tokens.size() > 4 || tokens[0] != "Htek") return {};
  const std::string_view model = tokens[1];
  if (model.size() > kMaxToken || !AllOf(model, internal::IsDashedModelChar)) return {};
  UserAgentInfo info;
  info.model = std::string(model);
  if (tokens.size() > 2 && tokens[2].size() <= kMaxToken && AllOf(tokens[2], internal::IsDottedVersionChar)) {
    info.firmware = std::string(tokens[2]);
  }
  // The MAC as "00:1f:c1:1c:22:a9"; MacAddress::Parse takes the separated form, and the
  // all-zero placeholder is refused like everywhere else.
  if (tokens.size() == 4 && tokens[3].size() == 17) {
    auto mac = core::MacAddress::Parse(tokens[3]);
    if (mac && mac->str() != "000000000000") info.mac = *mac;
  }
  return info;
}

// cfg000x.xml for models with a known code (UC926 -> cfg0010.xml), then cfg<mac>.xml.
std::vector<std::string> BootFiles(const core::MacAddress& mac, std::string_view model) {
  // Model -> code of its model file cfg<code>.xml (docs/vendors/htek.md; wazo v2_0_4_6_41 entry.py).
  static constexpr std::pair<std::string_view, std::string_view> kCodes[] = {
      {"UC926", "0010"}, {"UC924", "0012"}, {"UC923", "0013"},  {"UC903", "0016"},
      {"UC902", "0017"}, {"UC912", "0019"}, {"UC912E", "0019"}, {"UC912G", "0019"},
  };
  std::string upper;
  for (char c : model) upper.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
  std::vector<std::string> files;
  for (const auto& [name, code] : kCodes) {
    if (name == upper) files.push_back("cfg" + std::string(code) + ".xml");
  }
  files.push_back("cfg" + mac.str() + ".xml");
  return files;
}

}  // namespace

std::unique_ptr<Vendor> MakeHtekVendor() {
  return MakeVendor({.name = "htek",
                     .route = Route,
                     .parse_user_agent = ParseUserAgent,
                     .boot_files = BootFiles,
                     .web_admin_password_keys = {"P2"}});
}

}  // namespace provgate::vendors
