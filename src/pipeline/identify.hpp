// Identify: who is asking. The MAC in the URL is only a claim; a device is proven by its
// client certificate, its URL token, its digest (or Basic, over TLS) credential, or, where a
// tenant allows it, the source address range, tried in that order among the methods the
// listener allows.
#pragma once

#include "pipeline/admit.hpp"
#include "pipeline/stage.hpp"

namespace provgate::pipeline {

// The proven device, or the refusal: a uniform 404, or a digest challenge where the listener
// takes digest. Failed credentials and unknown MACs are left in `state.scan`. A MAC a
// request merely names (digest or Basic user, URL) is read from `deps.store`, never the fleet
// cache, so that a cached device and an unknown name cost the same read.
Result<Step<Identity>> Identify(const StageDeps& deps, RequestState& state, const Admitted& admitted);

// How a request without a usable credential is answered: a digest challenge where the
// listener takes digest, else the uniform 404.
Answer NoCredentialAnswer(const DeviceRequest& request);

}  // namespace provgate::pipeline
