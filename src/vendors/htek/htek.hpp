// Htek UC9xx phones (docs/vendors/htek.md).
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

#include <memory>

#include "vendors/vendor.hpp"

namespace provgate::vendors {

// The Htek vendor: the routes above. Thread-safe.
std::unique_ptr<Vendor> MakeHtekVendor();

}  // namespace provgate::vendors
