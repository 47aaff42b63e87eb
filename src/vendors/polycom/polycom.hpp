// Polycom / Poly VVX, SoundPoint, Trio, Edge E (VENDORS.md section 2).
//
// Routes (MAC hex in any letter case, since phones and guides disagree on it):
//   <mac>.cfg            kDevice  "master.cfg"          master file naming this phone's files
//   <mac>-user.cfg       kDevice  "mac-user.cfg"        lines (carries SIP passwords)
//   000000000000.cfg     kCommon  "default-master.cfg"  master for phones without <mac>.cfg
//   common.cfg           kCommon  "common.cfg"          settings and hardening for every phone
// All XML, application/xml. The all-zero MAC is never a device. Firmware (*.sip.ld) is not
// routed; the files phones upload (<mac>-phone.cfg, -web.cfg, -directory.xml, -calls.xml,
// -app.log, -boot.log) are RouteUpload's allow-list, never Route's. No encryption: the
// Poly container is not reproducible from the sources we have (docs/encryption.md). Trust: inputs are hostile; matching is a fixed grammar over at most 21 bytes.
#pragma once

#include "vendors/vendor.hpp"

namespace provgate::vendors {

class PolycomVendor final : public Vendor {
 public:
  std::string_view name() const override { return "polycom"; }
  std::optional<FileRoute> Route(std::string_view file_name) const override;
  // Accepts "FileTransport Polycom<family>-<model>-UA/<version> [(SN:<serial>)] [Type/...]"
  // and the Poly spelling ("FileTransport PolyEdge-Edge_E450-UA/..."). model is the UA's
  // spelling (e.g. "VVX_400"); mac only from a 12-hex-digit SN field.
  UserAgentInfo ParseUserAgent(std::string_view user_agent) const override;
  std::optional<UploadRoute> RouteUpload(std::string_view file_name) const override;
  // <mac>.cfg (master), then its CONFIG_FILES in order: <mac>-user.cfg, common.cfg. The
  // default master 000000000000.cfg is only fetched when <mac>.cfg is missing.
  std::vector<std::string> BootFiles(const core::MacAddress& mac, std::string_view model) const override;
};

}  // namespace provgate::vendors
