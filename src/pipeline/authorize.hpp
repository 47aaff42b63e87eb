// Authorize: whether a proven device may have anything now. Lifecycle and window first (a
// retired or expired device gets nothing, and nothing about it changes), then the tenant's
// policy, then identity hygiene (User-Agent, certificate pin, anomalies), which may change
// state (pin, lock) and so runs only for a device that is otherwise entitled; a HEAD is
// refused the same way but changes nothing.
#pragma once

#include <optional>

#include "pipeline/stage.hpp"

namespace provgate::pipeline {

// The refusal, or nothing when the device may be served. Records the transition an ended
// window makes, pins a first certificate and locks on an anomaly (not for a HEAD).
Result<std::optional<Refused>> Authorize(const StageDeps& deps, RequestState& ctx, const Identity& id,
                                         const core::Tenant& tenant, const vendors::UserAgentInfo& ua);

}  // namespace provgate::pipeline
