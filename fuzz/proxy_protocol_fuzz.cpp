#include <cstdint>
#include <cstdlib>
#include <span>

#include "net/proxy_protocol.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto r = provgate::net::ParseProxyHeader(std::span<const uint8_t>(data, size));
  if (r && r->has_value()) {
    const auto& h = **r;
    if (h.consumed == 0 || h.consumed > size) std::abort();
    if (h.version == 1 && h.consumed > provgate::net::kMaxProxyV1Bytes) std::abort();
    if (h.version == 2 && h.consumed > provgate::net::kMaxProxyV2Bytes) std::abort();
  }
  return 0;
}
