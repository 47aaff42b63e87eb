// Snom D3xx / D7xx (docs/vendors/snom.md). With a setting_server URL without a file name the
// phone fetches its model file, then its own file (MAC upper case):
//   snom<model>.htm          kCommon  "model.xml"  XML <settings>: provisioning, time, hardening
//   snom<model>-<MAC>.htm    kDevice  "mac.xml"    identities (user_*), admin/web passwords
// model: 2..8 letters/digits as the phone spells it (D345, D785, 320). Firmware and the
// redirection service are not routed. No config encryption exists for Snom (docs/vendors/snom.md).
// Trust: hostile input; fixed grammars over at most 29 bytes.
#pragma once

#include <memory>

#include "vendors/vendor.hpp"

namespace provgate::vendors {

// The Snom vendor: the routes above. Thread-safe.
std::unique_ptr<Vendor> MakeSnomVendor();

}  // namespace provgate::vendors
