// The benchmark tools' OpenSSL helpers, over the tls module's owning handles.
#pragma once

#include <string>

#include "base/result.hpp"
#include "tls/ossl_handles.hpp"

namespace provgate::bench {

// The tls module's owning handles and DrainErrors, unqualified here.
using namespace provgate::tls::ossl;

// A simulated phone's TLS client context: `version` (TLS1_2_VERSION or TLS1_3_VERSION)
// pinned, the server verified against `ca_file`, and no session cache or tickets: a
// rebooted phone has no session to resume, so every connection is a full handshake.
Result<SslCtxPtr> MakePhoneClientContext(const std::string& ca_file, int version);

}  // namespace provgate::bench
