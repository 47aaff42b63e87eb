// Polycom / Poly VVX, SoundPoint, Trio, Edge E (docs/vendors/polycom.md).
//
// Routes (MAC hex in any letter case, since phones and guides disagree on it):
//   <mac>.cfg            kDevice  "master.cfg"          master file naming this phone's files
//   <mac>-user.cfg       kDevice  "mac-user.cfg"        lines (carries SIP passwords)
//   000000000000.cfg     kCommon  "default-master.cfg"  master for phones without <mac>.cfg
//   common.cfg           kCommon  "common.cfg"          settings and hardening for every phone
// All XML, application/xml. The all-zero MAC is never a device. Firmware (*.sip.ld) is not
// routed; the files phones upload (<mac>-phone.cfg, -web.cfg, -directory.xml, -calls.xml,
// -app.log, -boot.log) are RouteUpload's allow-list, never Route's. No encryption: the
// Poly container is not reproducible from the sources we have (docs/encryption.md). Trust: inputs are hostile; matching
// is a fixed grammar over at most 21 bytes.
#pragma once

#include <memory>

#include "vendors/vendor.hpp"

namespace provgate::vendors {

// The Polycom vendor: the routes above. Thread-safe.
std::unique_ptr<Vendor> MakePolycomVendor();

}  // namespace provgate::vendors
