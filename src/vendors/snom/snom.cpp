#include "vendors/snom/snom.hpp"

#include "vendors/internal/text.hpp"
#include "vendors/vendor_functions.hpp"

namespace provgate::vendors {
namespace {

using internal::AllOf;

constexpr std::size_t kMaxToken = 40;

std::optional<FileRoute> Route(std::string_view file_name) {
  if (!file_name.starts_with("snom") || !file_name.ends_with(".htm") || file_name.size() > 29) {
    return std::nullopt;
  }
  std::string_view stem = file_name.substr(4, file_name.size() - 8);
  std::optional<core::MacAddress> mac;
  if (const std::size_t dash = stem.find('-'); dash != std::string_view::npos) {
    mac = internal::MacFromHex(stem.substr(dash + 1), internal::HexCase::kUpper);
    if (!mac) return std::nullopt;
    stem = stem.substr(0, dash);
  }
  if (stem.size() < 2 || stem.size() > 8 || !AllOf(stem, internal::IsAlnum)) return std::nullopt;
  FileRoute r = internal::MakeRoute(mac ? FileScope::kDevice : FileScope::kCommon, mac ? "mac.xml" : "model.xml",
                                    render::Format::kXml, internal::kXmlContentType);
  r.mac = mac;
  r.model_hint = std::string(stem);
  return r;
}

// "Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9ba52f5 000413922D24
// SXM:0 UXM:0)"; older firmware has no MAC token.
UserAgentInfo ParseUserAgent(std::string_view user_agent) {
  if (user_agent.size() > internal::kMaxUserAgent) return {};
  const std::size_t at = user_agent.find("snom");
  if (at == std::string_view::npos) return {};
  std::string_view rest = user_agent.substr(at);
  if (rest.ends_with(')')) rest.remove_suffix(1);
  const auto tokens = internal::Tokens(rest);
  // tokens[0] = "snomD785-SIP"
  std::string_view product = tokens[0];
  if (!product.ends_with("-SIP")) return {};
  const std::string_view model = product.substr(4, product.size() - 8);
  if (model.empty() || model.size() > kMaxToken || !AllOf(model, internal::IsAlnum)) return {};
  UserAgentInfo info;
  info.model = std::string(model);
  if (tokens.size() > 1 && tokens[1].size() <= kMaxToken && AllOf(tokens[1], internal::IsDottedVersionChar)) {
    info.firmware = std::string(tokens[1]);
  }
  for (std::size_t i = 2; i < tokens.size(); ++i) {
    if (auto mac = internal::MacFromHex(tokens[i], internal::HexCase::kUpper)) {
      info.mac = *mac;
      break;
    }
  }
  return info;
}

// snom<model>.htm, snom<model>-<MAC>.htm (model as stored, a leading "snom" dropped).
std::vector<std::string> BootFiles(const core::MacAddress& mac, std::string_view model) {
  if (model.size() > 4 && (model.starts_with("snom") || model.starts_with("Snom"))) model.remove_prefix(4);
  const std::string model_file = "snom" + std::string(model) + ".htm";
  const std::string device_file = "snom" + std::string(model) + "-" + mac.Upper() + ".htm";
  // The device file name carries the model too: a model the grammar refuses has no files.
  if (!Route(model_file) || !Route(device_file)) return {};
  return {model_file, device_file};
}

}  // namespace

std::unique_ptr<Vendor> MakeSnomVendor() {
  return MakeVendor({.name = "snom",
                     .route = Route,
                     .parse_user_agent = ParseUserAgent,
                     .boot_files = BootFiles,
                     .web_admin_password_keys = {"admin_mode_password", "http_pass", "webserver_admin_password"}});
}

}  // namespace provgate::vendors
