#include "vendors/grandstream/grandstream.hpp"

#include "vendors/internal/text.hpp"
#include "vendors/vendor_functions.hpp"

namespace provgate::vendors {
namespace {

using internal::AllOf;

constexpr std::size_t kMaxToken = 32;

std::optional<FileRoute> Route(std::string_view file_name) {
  if (file_name == "cfg.xml") return internal::XmlRoute(FileScope::kCommon, "common.xml");
  if (!file_name.starts_with("cfg") || !file_name.ends_with(".xml") || file_name.size() > 23) {
    return std::nullopt;
  }
  const std::string_view stem = file_name.substr(3, file_name.size() - 7);
  if (stem.size() == 12 && AllOf(stem, internal::IsLowerHex)) {
    auto mac = internal::MacFromHex(stem, internal::HexCase::kLower);
    if (!mac) return std::nullopt;
    FileRoute r = internal::XmlRoute(FileScope::kDevice, "mac.xml");
    r.mac = *mac;
    return r;
  }
  // Model files: a lower-case model name with at least one letter and one digit (gxp2135).
  bool letter = false;
  bool digit = false;
  for (char c : stem) {
    letter = letter || (c >= 'a' && c <= 'z');
    digit = digit || internal::IsDigit(c);
  }
  if (stem.size() < 3 || !AllOf(stem, internal::IsLowerAlnum) || !letter || !digit) return std::nullopt;
  FileRoute r = internal::XmlRoute(FileScope::kCommon, "model.xml");
  r.model_hint = std::string(stem);
  return r;
}

// "Grandstream Model HW GXP1628 SW 1.0.4.138 DevId c074ad2bd859",
// "Grandstream Model HW HT801 V1.1A SW 1.0.17.5 DevId c074ad273a10",
// "Grandstream GXP2000 (gxp2000e.bin:1.2.5.3/boot55e.bin:1.1.6.9) DevId 000b822726c8".
UserAgentInfo ParseUserAgent(std::string_view user_agent) {
  if (user_agent.size() > internal::kMaxUserAgent) return {};
  const auto tokens = internal::Tokens(user_agent);
  if (tokens.size() < 2 || tokens[0] != "Grandstream") return {};

  UserAgentInfo info;
  std::string_view model;
  std::string_view firmware;
  if (tokens.size() >= 4 && tokens[1] == "Model" && tokens[2] == "HW") {
    model = tokens[3];
    for (std::size_t i = 4; i + 1 < tokens.size(); ++i) {
      if (tokens[i] == "SW") firmware = tokens[i + 1];
    }
  } else {
    model = tokens[1];
    // "(gxp2000e.bin:1.2.5.3/boot55e.bin:1.1.6.9)": the application image's version.
    if (tokens.size() > 2 && tokens[2].starts_with('(')) {
      const std::string_view images = tokens[2];
      const std::size_t colon = images.find(':');
      const std::size_t end = images.find_first_of("/)", colon == std::string_view::npos ? 0 : colon);
      if (colon != std::string_view::npos && end != std::string_view::npos) {
        firmware = images.substr(colon + 1, end - colon - 1);
      }
    }
  }
  if (model.empty() || model.size() > kMaxToken || !AllOf(model, internal::IsDashedModelChar)) return {};
  info.model = std::string(model);
  if (firmware.size() <= kMaxToken && AllOf(firmware, internal::IsDottedVersionChar))
    info.firmware = std::string(firmware);
  for (std::size_t i = 1; i + 1 < tokens.size(); ++i) {
    if (tokens[i] != "DevId") continue;
    if (auto mac = internal::MacFromHex(tokens[i + 1], internal::HexCase::kAny)) info.mac = *mac;
  }
  return info;
}

// cfg<mac>.xml: kOpenSslAes256CbcMd5, key in provisioning.config.filePassword (P1359) of an
// earlier plain copy; optional.
std::optional<EncryptionScheme> Encryption(const FileRoute& route) {
  if (route.scope != FileScope::kDevice || route.template_name != "mac.xml") return std::nullopt;
  return EncryptionScheme{Cipher::kOpenSslAes256CbcMd5, KeyDelivery::kPriorPlainCopy, "config_key", false};
}

// cfg<mac>.xml only: the fallbacks are never fetched by a phone that gets its own file, and
// the legacy binary cfg<mac> is not routed.
std::vector<std::string> BootFiles(const core::MacAddress& mac, std::string_view /*model*/) {
  // cfg<model>.xml and cfg.xml are fetched only when cfg<mac>.xml fails, which never
  // happens for a device provgate serves.
  return {"cfg" + mac.str() + ".xml"};
}

}  // namespace

std::unique_ptr<Vendor> MakeGrandstreamVendor() {
  return MakeVendor({.name = "grandstream",
                     .route = Route,
                     .parse_user_agent = ParseUserAgent,
                     .boot_files = BootFiles,
                     .encryption = Encryption,
                     .web_admin_password_keys = {"P2", "users.admin.password"}});
}

}  // namespace provgate::vendors
