// Yealink SIP-T4x/T5x, CP and W-series DECT (docs/vendors/yealink.md).
//
// Routes, all lower case exactly as the phones request them:
//   <mac>.boot            kDevice  "mac.boot"     boot file including the common and MAC cfg
//   <mac>.cfg             kDevice  "mac.cfg"      accounts (carries SIP passwords)
//   y000000000000.boot    kCommon  "common.boot"  boot file for phones without a MAC boot file
//   y0000000000XX.cfg     kCommon  "common.cfg"   model_hint = model code XX (10..999)
//   y000000000000.cfg     kCommon  "common.cfg"   the same settings for models without a code
// MAC: 12 lower-case hex digits, no separators. Everything else, including the files the
// phone uploads (<mac>-local.cfg, <mac>-contact.xml: RouteUpload), is not routed.
// Encryption: <mac>.cfg in compatibility mode (AES-128-ECB) with its key in
// <mac>_Security.enc (RouteKeyFile), wrapped with Yealink's published key: obfuscation only. Trust: inputs are hostile;
// matching is a fixed grammar over at most 18 bytes.
#pragma once

#include <memory>

#include "vendors/vendor.hpp"

namespace provgate::vendors {

// The Yealink vendor: the routes above. Thread-safe.
std::unique_ptr<Vendor> MakeYealinkVendor();

}  // namespace provgate::vendors
