#include "vendors/cisco/cisco.hpp"

#include "vendors/internal/text.hpp"
#include "vendors/vendor_functions.hpp"

namespace provgate::vendors {
namespace {

using internal::AllOf;
using internal::IsDigit;

constexpr std::size_t kMaxToken = 40;

bool IsModelChar(char c) { return internal::IsAlnum(c) || c == '-'; }
bool IsFirmwareChar(char c) { return internal::IsAlnum(c) || c == '.' || c == '(' || c == ')'; }

// "8841-3PCC" or "CP-8841-3PCC" -> "CP-8841-3PCC".
std::optional<std::string> MppModel(std::string_view stem) {
  if (stem.starts_with("CP-")) stem.remove_prefix(3);
  if (stem.size() != 9 || !stem.ends_with("-3PCC") || !AllOf(stem.substr(0, 4), IsDigit)) {
    return std::nullopt;
  }
  return "CP-" + std::string(stem);
}

std::optional<FileRoute> Route(std::string_view file_name) {
  if (file_name.size() == 16 && (file_name.ends_with(".xml") || file_name.ends_with(".cfg"))) {
    if (auto mac = internal::MacFromHex(file_name.substr(0, 12), internal::HexCase::kAny)) {
      const bool secrets = file_name.ends_with(".cfg");
      FileRoute r = internal::XmlRoute(FileScope::kDevice, secrets ? "mac-secrets.xml" : "mac.xml");
      r.mac = *mac;
      return r;
    }
  }
  if (file_name.starts_with("spa") && file_name.ends_with(".cfg") && file_name.size() <= 20) {
    // $PSN as the firmware spells it: digits, then letters in either case (spa508G.cfg).
    const std::string_view psn = file_name.substr(3, file_name.size() - 7);
    if (psn.size() < 3 || !AllOf(psn, internal::IsAlnum) || !IsDigit(psn.front())) return std::nullopt;
    FileRoute r = internal::XmlRoute(FileScope::kCommon, "model.xml");
    r.model_hint = std::string(psn);
    return r;
  }
  if (file_name.ends_with(".xml") && file_name.size() <= 20) {
    if (auto model = MppModel(file_name.substr(0, file_name.size() - 4))) {
      FileRoute r = internal::XmlRoute(FileScope::kCommon, "model.xml");
      r.model_hint = *model;
      return r;
    }
  }
  return std::nullopt;
}

// "Cisco/SPA508G-7.4.8a (0002FDFF2103)(CBT141400UK)": mac from the first of two
// parenthesised groups; "Cisco/SPA525G-7.4.7 (CBT141900G7)" and "Linksys/SPA-942-6.1.5(a)
// (88019FA42805)": a single group is the serial, never a MAC; "Cisco-CP-8841-3PCC/11.0
// (00562b043615)": Cisco's guide calls the value the serial, so no mac either.
UserAgentInfo ParseUserAgent(std::string_view user_agent) {
  if (user_agent.size() > internal::kMaxUserAgent) return {};
  const std::size_t space = user_agent.find(' ');
  const std::string_view product = user_agent.substr(0, space);
  std::string_view rest = space == std::string_view::npos ? std::string_view() : user_agent.substr(space + 1);

  UserAgentInfo info;
  std::string_view model;
  std::string_view firmware;
  bool spa = false;
  if (product.starts_with("Cisco-CP-")) {  // MPP: Cisco-CP-8841-3PCC/11.0
    const std::size_t slash = product.find('/');
    if (slash == std::string_view::npos) return {};
    model = product.substr(6, slash - 6);
    firmware = product.substr(slash + 1);
  } else if (product.starts_with("Cisco/") || product.starts_with("Linksys/")) {
    spa = true;
    const std::string_view body = product.substr(product.find('/') + 1);
    // The firmware starts after the last '-' that is followed by a digit: SPA-942-6.1.5(a).
    std::size_t split = std::string_view::npos;
    for (std::size_t i = 0; i + 1 < body.size(); ++i) {
      if (body[i] == '-' && IsDigit(body[i + 1])) split = i;
    }
    if (split == std::string_view::npos) return {};
    model = body.substr(0, split);
    firmware = body.substr(split + 1);
  } else {
    return {};
  }
  if (model.empty() || model.size() > kMaxToken || !AllOf(model, IsModelChar)) return {};
  info.model = std::string(model);
  if (firmware.size() <= kMaxToken && AllOf(firmware, IsFirmwareChar)) info.firmware = std::string(firmware);

  // "(MAC)(serial)" on SPA: two groups, the first 12 hex digits.
  if (spa && rest.starts_with('(')) {
    const std::size_t close = rest.find(')');
    if (close == 13 && rest.size() > close + 1 && rest[close + 1] == '(') {
      if (auto mac = internal::MacFromHex(rest.substr(1, 12), internal::HexCase::kAny)) info.mac = *mac;
    }
  }
  return info;
}

// "mac-secrets.xml" routes: required kOpenSslAes256CbcMd5, key in the plain <mac>.xml.
std::optional<EncryptionScheme> Encryption(const FileRoute& route) {
  if (route.scope != FileScope::kDevice || route.template_name != "mac-secrets.xml") return std::nullopt;
  return EncryptionScheme{Cipher::kOpenSslAes256CbcMd5, KeyDelivery::kPlainBootstrapFile, "config_key", true};
}

// The model file (SPA: spa<psn>.cfg from "SPA504G" -> spa504G.cfg, "SPA-942" -> spa942.cfg; MPP: <nnnn>-3PCC.xml from
// "CP-8841-3PCC"), then Profile_Rule_B <mac>.xml, then Profile_Rule_C <mac>.cfg (served
// only to devices with a config key).
std::vector<std::string> BootFiles(const core::MacAddress& mac, std::string_view model) {
  std::vector<std::string> files;
  std::string_view m = model;
  if (m.size() > 3 && (m[0] == 'S' || m[0] == 's') && (m[1] == 'P' || m[1] == 'p') && (m[2] == 'A' || m[2] == 'a')) {
    // $PSN keeps the model's letters as the firmware spells them: SPA504G -> spa504G.cfg.
    m.remove_prefix(3);
    if (m.starts_with("-")) m.remove_prefix(1);
    files.push_back("spa" + std::string(m) + ".cfg");
  } else if (auto mpp = MppModel(model)) {
    files.push_back(mpp->substr(3) + ".xml");  // "CP-8841-3PCC" -> 8841-3PCC.xml
  }
  // A model the routes cannot name (unknown spelling) contributes no model file.
  if (!files.empty() && !Route(files.front())) files.clear();
  files.push_back(mac.str() + ".xml");
  files.push_back(mac.str() + ".cfg");
  return files;
}

}  // namespace

std::unique_ptr<Vendor> MakeCiscoVendor() {
  return MakeVendor({.name = "cisco",
                     .route = Route,
                     .parse_user_agent = ParseUserAgent,
                     .boot_files = BootFiles,
                     .encryption = Encryption,
                     .web_admin_password_keys = {"Admin_Passwd", "Admin_Password", "Web_Login_Admin_Password"}});
}

}  // namespace provgate::vendors
