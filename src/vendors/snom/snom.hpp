// Snom D3xx / D7xx (VENDORS.md section 6). With a setting_server URL without a file name the
// phone fetches its model file, then its own file (MAC upper case):
//   snom<model>.htm          kCommon  "model.xml"  XML <settings>: provisioning, time, hardening
//   snom<model>-<MAC>.htm    kDevice  "mac.xml"    identities (user_*), admin/web passwords
// model: 2..8 letters/digits as the phone spells it (D345, D785, 320). Firmware and the
// redirection service are not routed. No config encryption exists for Snom (VENDORS.md).
// Trust: hostile input; fixed grammars over at most 29 bytes.
#pragma once

#include "vendors/vendor.hpp"

namespace provgate::vendors {

class SnomVendor final : public Vendor {
 public:
  std::string_view name() const override { return "snom"; }
  std::optional<FileRoute> Route(std::string_view file_name) const override;
  // "Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9ba52f5 000413922D24
  // SXM:0 UXM:0)"; older firmware has no MAC token.
  UserAgentInfo ParseUserAgent(std::string_view user_agent) const override;
  // snom<model>.htm, snom<model>-<MAC>.htm (model as stored, a leading "snom" dropped).
  std::vector<std::string> BootFiles(const core::MacAddress& mac, std::string_view model) const override;
};

}  // namespace provgate::vendors
