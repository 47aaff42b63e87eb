// Grandstream GXP / GRP phones and HT ATAs (VENDORS.md section 5).
//
// Boot order: cfg<mac> (legacy binary, proprietary: not routed, the phone moves on) ->
// cfg<mac>.xml; only when that fails cfg<model>.xml -> cfg.xml. All lower case.
//   cfg<mac>.xml     kDevice  "mac.xml"     everything: provisioning, time, hardening, lines,
//                                           admin password (version 2 items or, per model,
//                                           version 1 P-values)
//   cfg<model>.xml   kCommon  "model.xml"   fallback: firmware path; model_hint = model
//   cfg.xml          kCommon  "common.xml"  fallback: provisioning, time, hardening
// Trust: hostile input; fixed grammars over at most 23 bytes.
#pragma once

#include "vendors/vendor.hpp"

namespace provgate::vendors {

class GrandstreamVendor final : public Vendor {
 public:
  std::string_view name() const override { return "grandstream"; }
  std::optional<FileRoute> Route(std::string_view file_name) const override;
  // "Grandstream Model HW GXP1628 SW 1.0.4.138 DevId c074ad2bd859",
  // "Grandstream Model HW HT801 V1.1A SW 1.0.17.5 DevId c074ad273a10",
  // "Grandstream GXP2000 (gxp2000e.bin:1.2.5.3/boot55e.bin:1.1.6.9) DevId 000b822726c8".
  UserAgentInfo ParseUserAgent(std::string_view user_agent) const override;
  // cfg<mac>.xml: kOpenSslAes256CbcMd5, key in provisioning.config.filePassword (P1359) of an
  // earlier plain copy; optional.
  std::optional<EncryptionScheme> Encryption(const FileRoute& route) const override;
  // cfg<mac>.xml only: the fallbacks are never fetched by a phone that gets its own file, and
  // the legacy binary cfg<mac> is not routed.
  std::vector<std::string> BootFiles(const core::MacAddress& mac, std::string_view model) const override;
};

}  // namespace provgate::vendors
