// Yealink SIP-T4x/T5x, CP and W-series DECT (VENDORS.md section 1).
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
// <mac>_Security.enc (RouteKeyFile), wrapped with Yealink's published key: obfuscation only. Trust: inputs are hostile; matching
// is a fixed grammar over at most 18 bytes.
#pragma once

#include "vendors/vendor.hpp"

namespace provgate::vendors {

class YealinkVendor final : public Vendor {
 public:
  std::string_view name() const override { return "yealink"; }
  std::optional<FileRoute> Route(std::string_view file_name) const override;
  // Accepts "Yealink SIP-T46G 28.72.0.1 00:15:65:4a:a9:37", "Yealink SIP VP-T49G ...",
  // "Yealink W70B ...", "yealink SIP-T28P ...", "Yealink-T46G 28.71.0.81 28.1.0.128.0.0.0",
  // the bare-MAC T5x form and the very old "W52P 25.30.0.2 <mac>" form.
  UserAgentInfo ParseUserAgent(std::string_view user_agent) const override;
  // <mac>-local.cfg (settings changed on the phone) and <mac>-contact.xml (local contacts).
  std::optional<UploadRoute> RouteUpload(std::string_view file_name) const override;
  // <mac>.cfg: kYealinkAes128Ecb, key delivered as <mac>_Security.enc; optional.
  std::optional<EncryptionScheme> Encryption(const FileRoute& route) const override;
  // <mac>_Security.enc -> the key of <mac>.cfg.
  std::optional<KeyFileRoute> RouteKeyFile(std::string_view file_name) const override;
  // <mac>.boot, the model's common file y0000000000XX.cfg (model code table of VENDORS.md 1.1,
  // model spelled exactly as in the table; y000000000000.cfg for any other model), then
  // <mac>.cfg: exactly the files mac.boot includes (templates/yealink/vars.toml [models.*]).
  std::vector<std::string> BootFiles(const core::MacAddress& mac, std::string_view model) const override;
};

}  // namespace provgate::vendors
