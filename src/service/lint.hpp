// Renders devices' configs exactly as the server would (pipeline::RenderFile) and runs the
// policy linter (lint::LintDevice) on each device's boot files. Used by `provgate lint`, by
// variable changes before they are saved (Admin::ChangeTenantVars/ChangeDeviceVars) and by
// future API callers.
//
// Secrets never reach a finding: stored SIP passwords are replaced by kSecretPlaceholder
// before rendering (so rules still see a password key), and so are secret variables
// (MaskSecretVars) and the device's config key. Thread-safe if the store is.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "core/model.hpp"
#include "lint/lint.hpp"
#include "render/template_set.hpp"
#include "store/inventory.hpp"
#include "vendors/vendor.hpp"

namespace provgate::service {

inline constexpr std::string_view kSecretPlaceholder = "********";

// true for variable names whose values are secrets. Case-insensitive; a dotted name is secret
// when any part is: names containing password, passwd, passphrase, pwd, secret, key, token,
// credential or access_code (Gigaset's dect_access_code), and names with the word pin or puk
// (between '.', '_' and '-'). Errs on the side of masking: a masked value only costs a
// reader a look at the CLI on the server.
bool IsSecretVarName(std::string_view name);

// A copy of a variable layer (or of a flat object of dotted names) in which every value of a
// secret-named key, and everything inside such a key, is replaced by kSecretPlaceholder:
// strings, numbers and lists alike. Booleans and empty strings are kept: they reveal nothing,
// and "no password" must stay visible.
core::Vars MaskSecretVars(core::Vars vars);

// One device's findings; identifies the device without any secret.
struct DeviceFindings {
  std::string mac;
  std::string vendor;
  std::string model;
  std::string tenant;  // "" for a device in stock
  std::vector<lint::Finding> findings;
};

class Linter {
 public:
  // The references must outlive the Linter.
  Linter(store::Inventory& store, const vendors::Registry& vendors, const render::TemplateSet& templates,
         std::string provisioning_url);

  // Lints the devices that belong to a tenant (retired ones excluded: they are served
  // nothing), optionally only `tenant`'s; with `mac` set, only that device (whatever its
  // state). NotFound for an unknown tenant or MAC. Devices without findings are included.
  Result<std::vector<DeviceFindings>> LintDevices(const std::string& tenant, const std::string& mac) const;

  // Lints one device of each (vendor, model) present among `tenant`'s linted devices: the
  // cheap check for a change that affects the whole tenant.
  Result<std::vector<DeviceFindings>> LintRepresentatives(const core::Tenant& tenant) const;

  // Renders `device`'s boot files with `tenant`'s and the device's variables and `lines` as
  // given (passwords replaced by the placeholder here) and lints them. Files the vendor
  // serves only encrypted are skipped when the device has no key (the server refuses them);
  // a boot file without a template is reported as rule "template-missing".
  DeviceFindings LintOne(const core::Device& device, const core::Tenant& tenant,
                         const std::vector<core::Line>& lines) const;

 private:
  Result<std::vector<core::Line>> LinesOf(const core::Device& device) const;

  store::Inventory& store_;
  const vendors::Registry& vendors_;
  const render::TemplateSet& templates_;
  std::string provisioning_url_;
};

}  // namespace provgate::service
