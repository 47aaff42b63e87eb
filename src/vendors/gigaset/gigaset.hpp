// Gigaset N870/N670/N610 ("Nx70") multicell DECT systems and N510/N720 (docs/vendors/gigaset.md).
//   <MAC>.xml      kDevice  "mac.xml"  Nx70 <provisioning> syntax; MAC in either case (the
//                                      DHCP-66 form is upper case, wazo's Nx70 lower case)
// The legacy .bin chain and Maxwell's shared provisioning.xml are not routed. No config
// encryption exists for Gigaset (docs/vendors/gigaset.md). Trust: hostile input; 16-byte grammar.
#pragma once

#include <memory>

#include "vendors/vendor.hpp"

namespace provgate::vendors {

// The Gigaset vendor: the routes above. Thread-safe.
std::unique_ptr<Vendor> MakeGigasetVendor();

}  // namespace provgate::vendors
