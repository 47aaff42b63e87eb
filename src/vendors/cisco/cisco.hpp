// Cisco SPA / Linksys ATAs and phones, and Cisco MPP 3PCC phones (VENDORS.md section 3).
//
// Routes (the phone fetches whatever its Profile_Rule* say; the shipped common file chains
// Profile_Rule_B to $MA.xml):
//   spa<psn>.cfg             kCommon  "model.xml"    SPA default rule /spa$PSN.cfg, e.g. spa508G.cfg
//                                                    ($PSN: digits then letters, either case)
//   <nnnn>-3PCC.xml          kCommon  "model.xml"    MPP model file (also CP-<nnnn>-3PCC.xml)
//   <mac>.xml                kDevice  "mac.xml"      $MA.xml: lines, admin password (plain, mTLS)
//   <mac>.cfg                kDevice  "mac-secrets.xml"  line passwords only, served only
//                                                    encrypted (openssl -aes-256-cbc -md md5 -k)
// MAC: 12 hex digits, lower ($MA) or upper ($(MAU)) case. Everything else is not routed.
// Trust: hostile input; fixed grammars over at most 24 bytes.
#pragma once

#include "vendors/vendor.hpp"

namespace provgate::vendors {

class CiscoVendor final : public Vendor {
 public:
  std::string_view name() const override { return "cisco"; }
  std::optional<FileRoute> Route(std::string_view file_name) const override;
  // "Cisco/SPA508G-7.4.8a (0002FDFF2103)(CBT141400UK)": mac from the first of two
  // parenthesised groups; "Cisco/SPA525G-7.4.7 (CBT141900G7)" and "Linksys/SPA-942-6.1.5(a)
  // (88019FA42805)": a single group is the serial, never a MAC; "Cisco-CP-8841-3PCC/11.0
  // (00562b043615)": Cisco's guide calls the value the serial, so no mac either.
  UserAgentInfo ParseUserAgent(std::string_view user_agent) const override;
  // "mac-secrets.xml" routes: required kOpenSslAes256CbcMd5, key in the plain <mac>.xml.
  std::optional<EncryptionScheme> Encryption(const FileRoute& route) const override;
  // The model file (SPA: spa<psn>.cfg from "SPA504G" -> spa504G.cfg, "SPA-942" -> spa942.cfg; MPP: <nnnn>-3PCC.xml from
  // "CP-8841-3PCC"), then Profile_Rule_B <mac>.xml, then Profile_Rule_C <mac>.cfg (served
  // only to devices with a config key).
  std::vector<std::string> BootFiles(const core::MacAddress& mac, std::string_view model) const override;
};

}  // namespace provgate::vendors
