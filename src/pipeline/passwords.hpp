// The lines a rendered file may carry, with exactly the passwords the tenant's policy lets
// this response carry.
#pragma once

#include <string_view>
#include <vector>

#include "pipeline/stage.hpp"

namespace provgate::pipeline {

// The device's lines, every password removed. `stored_password`: whether a line had one.
Result<std::vector<core::Line>> LinesWithoutPasswords(const StageDeps& deps, const core::Device& device,
                                                      bool& stored_password);
// Applies the tenant's password policy: wipes confirmed deliveries, claims the undelivered
// passwords this file carries (atomically: of concurrent requests exactly one gets each, and
// a file that leaves a password out does not spend it), and returns the lines with exactly
// the passwords this response may carry. A HEAD spends and confirms nothing.
Result<std::vector<core::Line>> LinesWithDeliverablePasswords(const StageDeps& deps, RequestState& ctx,
                                                              const core::Device& device, const core::Tenant& tenant,
                                                              const render::Template& tpl,
                                                              const vendors::FileRoute& route,
                                                              std::string_view file_name, bool& stored_password);

}  // namespace provgate::pipeline
