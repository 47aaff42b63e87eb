// Gigaset N870/N670/N610 ("Nx70") multicell DECT systems and N510/N720 (VENDORS.md section 8).
//   <MAC>.xml      kDevice  "mac.xml"  Nx70 <provisioning> syntax; MAC in either case (the
//                                      DHCP-66 form is upper case, wazo's Nx70 lower case)
// The legacy .bin chain and Maxwell's shared provisioning.xml are not routed. No config
// encryption exists for Gigaset (VENDORS.md). Trust: hostile input; 16-byte grammar.
#pragma once

#include "vendors/vendor.hpp"

namespace provgate::vendors {

class GigasetVendor final : public Vendor {
 public:
  std::string_view name() const override { return "gigaset"; }
  std::optional<FileRoute> Route(std::string_view file_name) const override;
  // "Gigaset N870 IP PRO/83.V2.11.0+build.a546b91;7C2F80E0D605",
  // "Gigaset N720 DM PRO/70.089.00.000.000;7C2F80CA21E4", "N510 IP PRO/42.245.00.000.000"
  // (MAC optional), possibly followed by ";Handset=<n>".
  UserAgentInfo ParseUserAgent(std::string_view user_agent) const override;
  // <MAC>.xml (upper case, the DHCP-66 form).
  std::vector<std::string> BootFiles(const core::MacAddress& mac, std::string_view model) const override;
};

}  // namespace provgate::vendors
