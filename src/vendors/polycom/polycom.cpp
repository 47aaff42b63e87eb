#include "vendors/polycom/polycom.hpp"

#include "vendors/internal/text.hpp"
#include "vendors/vendor_functions.hpp"

namespace provgate::vendors {
namespace {

constexpr std::size_t kMaxToken = 48;

using internal::AllOf;
using internal::IsHex;

bool IsVersionChar(char c) { return internal::IsAlnum(c) || c == '.'; }

// 12 hex digits in any case, not the all-zero placeholder of the default master file.
std::optional<core::MacAddress> DeviceMac(std::string_view hex) {
  if (hex.size() != 12 || !AllOf(hex, IsHex) || hex == "000000000000") return std::nullopt;
  auto mac = core::MacAddress::Parse(hex);
  if (!mac) return std::nullopt;
  return *mac;
}

std::optional<FileRoute> Route(std::string_view file_name) {
  if (file_name == "000000000000.cfg") return internal::XmlRoute(FileScope::kCommon, "default-master.cfg");
  if (file_name == "common.cfg") return internal::XmlRoute(FileScope::kCommon, "common.cfg");
  std::string_view tpl;
  std::string_view hex;
  if (file_name.size() == 16 && file_name.ends_with(".cfg")) {
    tpl = "master.cfg";
    hex = file_name.substr(0, 12);
  } else if (file_name.size() == 21 && file_name.ends_with("-user.cfg")) {
    tpl = "mac-user.cfg";
    hex = file_name.substr(0, 12);
  } else {
    return std::nullopt;
  }
  auto mac = DeviceMac(hex);
  if (!mac) return std::nullopt;
  FileRoute r = internal::XmlRoute(FileScope::kDevice, std::string(tpl));
  r.mac = *mac;
  return r;
}

// Accepts "FileTransport Polycom<family>-<model>-UA/<version> [(SN:<serial>)] [Type/...]"
// and the Poly spelling ("FileTransport PolyEdge-Edge_E450-UA/..."). model is the UA's
// spelling (e.g. "VVX_400"); mac only from a 12-hex-digit SN field.
UserAgentInfo ParseUserAgent(std::string_view user_agent) {
  constexpr std::string_view kPrefix = "FileTransport ";
  if (user_agent.size() > internal::kMaxUserAgent || !user_agent.starts_with(kPrefix)) return {};
  std::string_view rest = user_agent.substr(kPrefix.size());

  // Product token: Polycom<family>-<model>-UA/<version>
  const std::size_t space = rest.find(' ');
  const std::string_view product = rest.substr(0, space);
  rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
  const std::size_t slash = product.find('/');
  if (slash == std::string_view::npos) return {};
  std::string_view name = product.substr(0, slash);
  const std::string_view version = product.substr(slash + 1);
  if (!name.starts_with("Poly") || !name.ends_with("-UA")) return {};
  name.remove_suffix(3);
  const std::size_t dash = name.find('-');
  if (dash == std::string_view::npos) return {};
  const std::string_view model = name.substr(dash + 1);
  if (model.empty() || model.size() > kMaxToken || !AllOf(model, internal::IsDashedModelChar)) return {};

  UserAgentInfo info;
  info.model = std::string(model);
  if (!version.empty() && version.size() <= kMaxToken && AllOf(version, IsVersionChar)) {
    info.firmware = std::string(version);
  }
  // Optional "(SN:<serial>)"; on Polycom the serial is the MAC only when it is 12 hex digits.
  constexpr std::string_view kSn = "(SN:";
  if (rest.starts_with(kSn)) {
    const std::size_t close = rest.find(')');
    if (close != std::string_view::npos) {
      const std::string_view serial = rest.substr(kSn.size(), close - kSn.size());
      if (serial.size() == 12 && AllOf(serial, IsHex)) {
        if (auto mac = core::MacAddress::Parse(serial)) info.mac = *mac;
      }
    }
  }
  return info;
}

std::optional<UploadRoute> RouteUpload(std::string_view file_name) {
  struct Slot {
    std::string_view suffix;
    std::string_view kind;
    std::size_t max_bytes;
  };
  // Override files are small; logs rotate on the phone at about 1 MB (kept with headroom).
  static constexpr Slot kSlots[] = {
      {"-phone.cfg", "phone-overrides", 256 * 1024}, {"-web.cfg", "web-overrides", 256 * 1024},
      {"-directory.xml", "directory", 1024 * 1024},  {"-calls.xml", "calls", 1024 * 1024},
      {"-app.log", "app-log", 4 * 1024 * 1024},      {"-boot.log", "boot-log", 1024 * 1024},
  };
  for (const Slot& slot : kSlots) {
    if (file_name.size() != 12 + slot.suffix.size() || !file_name.ends_with(slot.suffix)) continue;
    auto mac = DeviceMac(file_name.substr(0, 12));
    if (!mac) return std::nullopt;
    return UploadRoute{*mac, std::string(slot.kind), slot.max_bytes};
  }
  return std::nullopt;
}

// <mac>.cfg (master), then its CONFIG_FILES in order: <mac>-user.cfg, common.cfg. The
// default master 000000000000.cfg is only fetched when <mac>.cfg is missing.
std::vector<std::string> BootFiles(const core::MacAddress& mac, std::string_view /*model*/) {
  return {mac.str() + ".cfg", mac.str() + "-user.cfg", "common.cfg"};
}

}  // namespace

std::unique_ptr<Vendor> MakePolycomVendor() {
  return MakeVendor({.name = "polycom",
                     .route = Route,
                     .parse_user_agent = ParseUserAgent,
                     .boot_files = BootFiles,
                     .route_upload = RouteUpload,
                     .web_admin_password_keys = {"device.auth.localAdminPassword"}});
}

}  // namespace provgate::vendors
