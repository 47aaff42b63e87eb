#include "vendors/fanvil/fanvil.hpp"

#include <utility>

#include "vendors/internal/text.hpp"
#include "vendors/vendor_functions.hpp"

namespace provgate::vendors {
namespace {

using internal::AllOf;

constexpr std::size_t kMaxToken = 32;

bool IsStemChar(char c) { return internal::IsAlnum(c) || c == '.'; }

std::optional<FileRoute> Route(std::string_view file_name) {
  if (!file_name.ends_with(".cfg") || file_name.size() > 28) return std::nullopt;
  const std::string_view stem = file_name.substr(0, file_name.size() - 4);
  if (stem.size() == 12 && AllOf(stem, internal::IsHex)) {
    auto mac = internal::MacFromHex(stem, internal::HexCase::kLower);
    if (!mac) return std::nullopt;
    FileRoute r = internal::MakeRoute(FileScope::kDevice, "mac.cfg", render::Format::kXml, internal::kXmlContentType);
    r.mac = *mac;
    return r;
  }
  if (stem.size() < 6 || !(stem.starts_with("f0") || stem.starts_with("F0")) || !AllOf(stem, IsStemChar) ||
      stem.find("..") != std::string_view::npos) {
    return std::nullopt;
  }
  FileRoute r = internal::MakeRoute(FileScope::kCommon, "common.cfg", render::Format::kXml, internal::kXmlContentType);
  r.model_hint = std::string(stem);
  return r;
}

// "Fanvil X4 2.10.2.6887 0c383e07e16c", "Fanvil X6U Pro 0.0.10 0c383e2cd782".
UserAgentInfo ParseUserAgent(std::string_view user_agent) {
  if (user_agent.size() > internal::kMaxUserAgent) return {};
  const auto tokens = internal::Tokens(user_agent);
  if (tokens.size() < 3 || tokens[0] != "Fanvil") return {};
  std::size_t end = tokens.size();
  UserAgentInfo info;
  if (auto mac = internal::MacFromHex(tokens[end - 1], internal::HexCase::kAny)) {
    info.mac = *mac;
    --end;
  }
  // The version is the last token made of digits and dots; the model is what precedes it.
  if (end < 3 || tokens[end - 1].size() > kMaxToken || !AllOf(tokens[end - 1], internal::IsDottedVersionChar))
    return {};
  info.firmware = std::string(tokens[end - 1]);
  std::string model;
  for (std::size_t i = 1; i + 1 < end; ++i) {
    if (!AllOf(tokens[i], internal::IsAlnum)) return {};
    if (!model.empty()) model += ' ';
    model += tokens[i];
  }
  if (model.empty() || model.size() > kMaxToken) return {};
  info.model = std::move(model);
  return info;
}

// The model's common file (hardware-specific names as wazo's serie-x/serie-v plugins serve
// them, e.g. X4 -> f0X4hw1.100.cfg), then <mac>.cfg.
std::vector<std::string> BootFiles(const core::MacAddress& mac, std::string_view model) {
  // Fanvil names common files per model and hardware revision; where a model has several
  // revisions (X6), the first one wazo lists. Names from wazo serie_x/serie_v COMMON_FILES;
  // X7 and X7C from an older wazo serie-x list (docs/vendors/fanvil.md).
  static constexpr std::pair<std::string_view, std::string_view> kCommonFiles[] = {
      {"X2", "f0X2hw1.100.cfg"},   {"X210", "F0V00X200000.cfg"}, {"X3", "F0V00X300000.cfg"},
      {"X3S", "f0X3shw1.100.cfg"}, {"X4", "f0X4hw1.100.cfg"},    {"X5", "f0X5hw1.100.cfg"},
      {"X5S", "F0V00X5S0000.cfg"}, {"X6", "F0V00X600000.cfg"},   {"X7", "F0V00X700000.cfg"},
      {"X7C", "F0V0X7C00000.cfg"}, {"V67", "F0V0V6700000.cfg"},
  };
  std::vector<std::string> files;
  std::string upper;
  for (char c : model) upper.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
  for (const auto& [name, file] : kCommonFiles) {
    if (name == upper) files.emplace_back(file);
  }
  files.push_back(mac.str() + ".cfg");
  return files;
}

}  // namespace

std::unique_ptr<Vendor> MakeFanvilVendor() {
  return MakeVendor({.name = "fanvil",
                     .route = Route,
                     .parse_user_agent = ParseUserAgent,
                     .boot_files = BootFiles,
                     .web_admin_password_keys = {"Password"}});
}

}  // namespace provgate::vendors
