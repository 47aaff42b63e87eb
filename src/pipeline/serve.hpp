// The answer to an authorized request: an upload stored, a key file, or a rendered file
// (with the passwords this response may carry, encrypted where the vendor and device say).
#pragma once

#include <cstdint>
#include <string_view>

#include "pipeline/stage.hpp"

namespace provgate::pipeline {

// Stores a phone's upload under a name provgate chose, readable by provgate's user only.
Result<Step<DeviceResponse>> Upload(const StageDeps& deps, RequestState& ctx, const core::Device& device,
                                    const vendors::UploadRoute& slot, std::string_view file_name);
// The device's wrapped config key. Never without TLS: a plain-HTTP listener could hand it to
// anyone on the path.
Result<Step<DeviceResponse>> KeyFile(RequestState& ctx, const core::Device& device, const vendors::KeyFileRoute& route);
// The rendered file (from the render cache when nothing in it can change), encrypted where
// the vendor's scheme and the device's key say; a device's own file claims the passwords it
// carries and moves an assigned device to provisioned. `generation`: the store's data
// generation read before the request's first read.
Result<Step<DeviceResponse>> ServeFile(const StageDeps& deps, RequestState& ctx, const vendors::Vendor& vendor,
                                       const vendors::FileRoute& route, const core::Device& device,
                                       const core::Tenant& tenant, std::string_view file_name,
                                       std::uint64_t generation);

}  // namespace provgate::pipeline
