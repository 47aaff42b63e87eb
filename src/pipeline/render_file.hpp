// Builds the render context of docs/templates.md and renders one file. Shared by the request
// pipeline and by offline consumers (the policy linter), so both see exactly the same bytes.
#pragma once

#include <string>
#include <vector>

#include "core/model.hpp"
#include "render/template_set.hpp"
#include "vendors/vendor.hpp"

namespace provgate::pipeline {

// Variables: defaults < vendor < model < tenant (< device for device files). Common files get
// no device data and no lines. A line's password is rendered only when present in `lines`.
// Thread-safe.
std::string RenderFile(const render::TemplateSet& templates, const render::Template& tpl,
                       const vendors::FileRoute& route, const core::Device& device,
                       const core::Tenant& tenant, const std::vector<core::Line>& lines,
                       const std::string& file_name, const std::string& provisioning_url);

}  // namespace provgate::pipeline
