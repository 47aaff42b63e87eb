// Builds the render context of docs/templates.md and renders one file. Shared by the request
// pipeline and by offline consumers (the policy linter), so both see exactly the same bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/model.hpp"
#include "render/template_set.hpp"
#include "vendors/vendor.hpp"

namespace provgate::pipeline {

// The smallest content version: 10 digits, so "2.<version>" is above a legacy "2.0002" as a
// decimal and as text.
inline constexpr std::uint64_t kContentVersionBase = 2'000'000'000;

// Variables: defaults < vendor < model < tenant (< device for device files). Common files get
// no device data and no lines. A line's password is rendered only when present in `lines`.
// `data_generation` (the store's, read before the data) becomes `file.content_version`,
// kContentVersionBase + generation as 10 digits: it grows whenever provgate's data changes,
// for phones that apply a file only when its version is higher (Fanvil). Thread-safe.
// true when `vars` (a layer, or layers merged) choose the web-UI admin password: a non-empty
// admin_password, which device files render instead of the device's generated one.
bool ChoosesAdminPassword(const nlohmann::json& vars);

// Length of a generated web-UI admin password (letters and digits: every phone's web UI
// accepts them).
inline constexpr size_t kAdminPasswordLength = 16;
// A new random web-UI admin password.
Result<std::string> GenerateAdminPassword();

std::string RenderFile(const render::TemplateSet& templates, const render::Template& tpl,
                       const vendors::FileRoute& route, const core::Device& device, const core::Tenant& tenant,
                       const std::vector<core::Line>& lines, std::string_view file_name,
                       const std::string& provisioning_url, std::uint64_t data_generation);

}  // namespace provgate::pipeline
