// Fanvil X / V series (VENDORS.md section 7).
//   <mac>.cfg        kDevice  "mac.cfg"     XML <sysConf>: lines, admin account (lower-case MAC)
//   f0<...>.cfg      kCommon  "common.cfg"  the model's common file (names are model and
//                                           hardware specific, e.g. f0C00580000.cfg,
//                                           F0V00X200000.cfg); model_hint = the stem
// A 12-hex-digit stem is always a MAC. No encryption: Fanvil's algorithm is unconfirmed.
// Trust: hostile input; fixed grammars over at most 28 bytes.
#pragma once

#include "vendors/vendor.hpp"

namespace provgate::vendors {

class FanvilVendor final : public Vendor {
 public:
  std::string_view name() const override { return "fanvil"; }
  std::optional<FileRoute> Route(std::string_view file_name) const override;
  // "Fanvil X4 2.10.2.6887 0c383e07e16c", "Fanvil X6U Pro 0.0.10 0c383e2cd782".
  UserAgentInfo ParseUserAgent(std::string_view user_agent) const override;
  // The model's common file (hardware-specific names as wazo's serie-x/serie-v plugins serve
  // them, e.g. X4 -> f0X4hw1.100.cfg), then <mac>.cfg.
  std::vector<std::string> BootFiles(const core::MacAddress& mac, std::string_view model) const override;
};

}  // namespace provgate::vendors
