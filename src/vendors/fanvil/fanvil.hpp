// Fanvil X / V series (docs/vendors/fanvil.md).
//   <mac>.cfg        kDevice  "mac.cfg"     XML <sysConf>: lines, admin account (lower-case MAC)
//   f0<...>.cfg      kCommon  "common.cfg"  the model's common file (names are model and
//                                           hardware specific, e.g. f0C00580000.cfg,
//                                           F0V00X200000.cfg); model_hint = the stem
// A 12-hex-digit stem is always a MAC. No encryption: Fanvil's algorithm is unconfirmed.
// Trust: hostile input; fixed grammars over at most 28 bytes.
#pragma once

#include <memory>

#include "vendors/vendor.hpp"

namespace provgate::vendors {

// The Fanvil vendor: the routes above. Thread-safe.
std::unique_ptr<Vendor> MakeFanvilVendor();

}  // namespace provgate::vendors
