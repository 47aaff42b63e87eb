// Grandstream GXP / GRP phones and HT ATAs (docs/vendors/grandstream.md).
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

#include <memory>

#include "vendors/vendor.hpp"

namespace provgate::vendors {

// The Grandstream vendor: the routes above. Thread-safe.
std::unique_ptr<Vendor> MakeGrandstreamVendor();

}  // namespace provgate::vendors
