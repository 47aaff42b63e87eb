// PROXY protocol (HAProxy) v1 text and v2 binary headers, as load balancers put them in
// front of the TLS stream. The parser is pure and bounded; whether to accept a header at all
// is the caller's decision: only from a trusted proxy address, because anyone else could
// claim any source.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "base/result.hpp"
#include "net/ip_address.hpp"

namespace provgate::net {

inline constexpr size_t kMaxProxyV1Bytes = 107;  // the limit of the specification
// v2 allows 64 KiB of TLVs; real balancers send a few dozen bytes, so larger is refused.
inline constexpr size_t kMaxProxyV2Bytes = 16 + 2048;

struct ProxyHeader {
  // True for v1 "PROXY TCP4/TCP6" and v2 PROXY with an INET/INET6 address block. False for
  // v1 "UNKNOWN", v2 LOCAL (health checks from the balancer itself) and v2 UNSPEC/UNIX: the
  // caller then uses the TCP peer.
  bool has_source = false;
  IpAddress source = IpAddress::V4({0, 0, 0, 0});
  std::uint16_t source_port = 0;
  IpAddress destination = IpAddress::V4({0, 0, 0, 0});
  std::uint16_t destination_port = 0;
  int version = 0;      // 1 or 2
  size_t consumed = 0;  // bytes of the header, to drop from the stream
};

// Parses the header at the start of `data`. Returns nullopt when `data` is a valid prefix
// of a header but too short to decide (read more, up to the limits above), a ProxyHeader
// when complete, and kInvalidArgument for anything else (including no header at all).
Result<std::optional<ProxyHeader>> ParseProxyHeader(std::span<const std::uint8_t> data);

}  // namespace provgate::net
