// Htek UC9xx phones (VENDORS.md section 12, docs/vendors/htek.md).
//
// Boot requests, all lower case: Factory000x.bin, cfg000x.xml, $mac.cfg, cfg<mac>,
// cfg<mac>.xml. Routed:
//   cfg000x.xml    kCommon  "model.xml"  provisioning paths, time, login names;
//                                        model_hint = the four digits ("0010" for UC926)
//   cfg<mac>.xml   kDevice  "mac.xml"    accounts, profile 1 hardening, passwords
// Not routed (the phone moves on to the next file): Factory000x.bin is a vendor-built factory
// image we have no format for; "$mac.cfg" and the binary cfg<mac> are legacy formats whose
// syntax no source documents, so serving them would mean guessing a parser's input.
// Trust: hostile input; fixed grammars over at most 19 bytes; no encryption, no uploads
// (nothing confirmed, so the Vendor defaults apply).
#pragma once

#include "vendors/vendor.hpp"

namespace provgate::vendors {

class HtekVendor final : public Vendor {
 public:
  std::string_view name() const override { return "htek"; }
  std::optional<FileRoute> Route(std::string_view file_name) const override;
  // "Htek UC903 2.0.4.2 00:1f:c1:1c:22:a9": exactly four tokens, the MAC with colons.
  UserAgentInfo ParseUserAgent(std::string_view user_agent) const override;
  // cfg000x.xml for models with a known code (UC926 -> cfg0010.xml), then cfg<mac>.xml.
  std::vector<std::string> BootFiles(const core::MacAddress& mac, std::string_view model) const override;
};

}  // namespace provgate::vendors
