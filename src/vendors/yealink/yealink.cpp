#include "vendors/yealink/yealink.hpp"

#include <utility>
#include <vector>

#include "vendors/internal/text.hpp"
#include "vendors/vendor_functions.hpp"

namespace provgate::vendors {
namespace {

// Longer than any UA a Yealink sends; anything beyond is not worth parsing.
constexpr std::size_t kMaxToken = 32;

using internal::AllOf;
using internal::IsDigit;
using internal::IsLowerHex;

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (Lower(s[i]) != prefix[i]) return false;
  }
  return true;
}

FileRoute Common(std::string tpl, std::string model_hint = {}) {
  FileRoute r;
  r.scope = FileScope::kCommon;
  r.template_name = std::move(tpl);
  r.format = render::Format::kKeyValue;
  r.content_type = internal::kTextContentType;
  r.model_hint = std::move(model_hint);
  return r;
}

std::optional<FileRoute> Device(std::string_view hex, std::string tpl) {
  if (hex.size() != 12 || !AllOf(hex, IsLowerHex)) return std::nullopt;
  auto mac = core::MacAddress::Parse(hex);
  if (!mac) return std::nullopt;
  FileRoute r = Common(std::move(tpl));
  r.scope = FileScope::kDevice;
  r.mac = *mac;
  return r;
}

std::optional<FileRoute> Route(std::string_view file_name) {
  if (file_name == "y000000000000.boot") return Common("common.boot");
  // The model-independent common file <mac>.boot includes for models without a code.
  if (file_name == "y000000000000.cfg") return Common("common.cfg");
  if (file_name.size() == 17 && file_name.front() == 'y' && file_name.ends_with(".cfg")) {
    // y + 12 decimal digits: the model code (2 or 3 digits), zero-padded.
    const std::string_view digits = file_name.substr(1, 12);
    if (!AllOf(digits, IsDigit) || digits.substr(0, 9) != "000000000") return std::nullopt;
    std::string_view code = digits.substr(9);
    if (code.front() == '0') code.remove_prefix(1);
    if (code.size() < 2 || code.front() == '0') return std::nullopt;
    return Common("common.cfg", std::string(code));
  }
  if (file_name.size() == 16 && file_name.ends_with(".cfg")) return Device(file_name.substr(0, 12), "mac.cfg");
  if (file_name.size() == 17 && file_name.ends_with(".boot")) return Device(file_name.substr(0, 12), "mac.boot");
  return std::nullopt;
}

// Accepts "Yealink SIP-T46G 28.72.0.1 00:15:65:4a:a9:37", "Yealink SIP VP-T49G ...",
// "Yealink W70B ...", "yealink SIP-T28P ...", "Yealink-T46G 28.71.0.81 28.1.0.128.0.0.0",
// the bare-MAC T5x form and the very old "W52P 25.30.0.2 <mac>" form.
UserAgentInfo ParseUserAgent(std::string_view user_agent) {
  if (user_agent.size() > internal::kMaxUserAgent) return {};
  const auto tokens = internal::Tokens(user_agent);
  if (tokens.empty()) return {};

  std::size_t next = 0;
  std::string_view model;
  bool branded = false;
  if (tokens[0].size() == 7 && StartsWithNoCase(tokens[0], "yealink")) {
    branded = true;
    next = 1;
  } else if (StartsWithNoCase(tokens[0], "yealink-")) {  // "Yealink-T46G 28.71.0.81 ..."
    branded = true;
    model = tokens[0].substr(8);
    next = 1;
  }
  if (model.empty()) {
    if (next >= tokens.size()) return {};
    model = tokens[next++];
    if (model == "SIP" && next < tokens.size()) {  // "Yealink SIP VP-T49G ..."
      model = tokens[next++];
    } else if (model.starts_with("SIP-")) {
      model.remove_prefix(4);
    }
  }
  if (model.empty() || model.size() > kMaxToken || !AllOf(model, internal::IsDashedModelChar)) return {};

  std::string_view firmware = next < tokens.size() ? tokens[next] : std::string_view();
  const bool firmware_ok = !firmware.empty() && firmware.size() <= kMaxToken &&
                           AllOf(firmware, internal::IsDottedVersionChar) &&
                           firmware.find('.') != std::string_view::npos;
  // Without the brand only the old "W52P 25.30.0.2 <mac>" shape counts as Yealink.
  if (!branded && !firmware_ok) return {};

  UserAgentInfo info;
  info.model = std::string(model);
  if (!firmware_ok) return info;
  info.firmware = std::string(firmware);
  ++next;
  if (next < tokens.size()) {
    if (auto mac = core::MacAddress::Parse(tokens[next])) info.mac = *mac;
  }
  return info;
}

// <mac>-local.cfg (settings changed on the phone) and <mac>-contact.xml (local contacts).
std::optional<UploadRoute> RouteUpload(std::string_view file_name) {
  struct Slot {
    std::string_view suffix;
    std::string_view kind;
    std::size_t max_bytes;
  };
  static constexpr Slot kSlots[] = {
      {"-local.cfg", "local-overrides", 256 * 1024},
      {"-contact.xml", "contacts", 1024 * 1024},
  };
  for (const Slot& slot : kSlots) {
    if (file_name.size() != 12 + slot.suffix.size() || !file_name.ends_with(slot.suffix)) continue;
    auto mac = internal::MacFromHex(file_name.substr(0, 12), internal::HexCase::kLower);
    if (!mac) return std::nullopt;
    return UploadRoute{*mac, std::string(slot.kind), slot.max_bytes};
  }
  return std::nullopt;
}

// <mac>.cfg: kYealinkAes128Ecb, key delivered as <mac>_Security.enc; optional.
std::optional<EncryptionScheme> Encryption(const FileRoute& route) {
  if (route.scope != FileScope::kDevice || route.template_name != "mac.cfg") return std::nullopt;
  return EncryptionScheme{Cipher::kYealinkAes128Ecb, KeyDelivery::kKeyFile, "config_key", false};
}

// <mac>_Security.enc -> the key of <mac>.cfg.
std::optional<KeyFileRoute> RouteKeyFile(std::string_view file_name) {
  constexpr std::string_view kSuffix = "_Security.enc";
  if (file_name.size() != 12 + kSuffix.size() || !file_name.ends_with(kSuffix)) return std::nullopt;
  auto mac = internal::MacFromHex(file_name.substr(0, 12), internal::HexCase::kLower);
  if (!mac) return std::nullopt;
  return KeyFileRoute{*mac, mac->str() + ".cfg", KeyWrap::kYealinkCompatibility};
}

// <mac>.boot, the model's common file y0000000000XX.cfg (model code table of docs/vendors/yealink.md,
// model spelled exactly as in the table; y000000000000.cfg for any other model), then
// <mac>.cfg: exactly the files mac.boot includes (templates/yealink/vars.toml [models.*]).
std::vector<std::string> BootFiles(const core::MacAddress& mac, std::string_view model) {
  // Model -> code of its common file y0000000000XX.cfg (docs/vendors/yealink.md, fusionpbx templates);
  // templates/yealink/vars.toml has one [models.*] table per row.
  static constexpr std::pair<std::string_view, std::string_view> kCodes[] = {
      {"T46G", "28"},  {"T42G", "29"},  {"T48G", "35"},  {"T41P", "36"},  {"T40P", "54"},  {"T48S", "65"},
      {"T46S", "66"},  {"T42S", "67"},  {"T41S", "68"},  {"T40G", "76"},  {"T43U", "107"}, {"T46U", "108"},
      {"T48U", "109"}, {"T42U", "116"}, {"T53", "95"},   {"T53W", "95"},  {"T54W", "96"},  {"T57W", "97"},
      {"T58W", "150"}, {"CP960", "73"}, {"T31G", "123"}, {"T33G", "124"}, {"W52P", "25"},  {"W56P", "25"},
      {"W60B", "77"},  {"W70B", "146"}, {"W80", "175"},
  };
  // Matched exactly as stored, like the model layer that gives mac.boot its include: a model
  // spelled otherwise ("SIP-T46U") gets y000000000000.cfg from both.
  const std::string_view m = model;
  std::vector<std::string> files{mac.str() + ".boot"};
  for (const auto& [name, code] : kCodes) {
    if (name == m) files.push_back("y" + std::string(12 - code.size(), '0') + std::string(code) + ".cfg");
  }
  // mac.boot includes y000000000000.cfg when the model layer names no common file.
  if (files.size() == 1) files.emplace_back("y000000000000.cfg");
  files.push_back(mac.str() + ".cfg");
  return files;
}

}  // namespace

std::unique_ptr<Vendor> MakeYealinkVendor() {
  return MakeVendor({.name = "yealink",
                     .route = Route,
                     .parse_user_agent = ParseUserAgent,
                     .boot_files = BootFiles,
                     .route_upload = RouteUpload,
                     .encryption = Encryption,
                     .route_key_file = RouteKeyFile,
                     .web_admin_password_keys = {"static.security.user_password"}});
}

}  // namespace provgate::vendors
