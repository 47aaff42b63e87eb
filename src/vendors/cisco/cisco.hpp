// Cisco SPA / Linksys ATAs and phones, and Cisco MPP 3PCC phones (docs/vendors/cisco.md).
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

#include <memory>

#include "vendors/vendor.hpp"

namespace provgate::vendors {

// The Cisco vendor: the routes above. Thread-safe.
std::unique_ptr<Vendor> MakeCiscoVendor();

}  // namespace provgate::vendors
