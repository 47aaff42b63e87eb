// The effective client address behind trusted reverse proxies. A forwarding header is a
// claim the client can write itself; it is believed only when the TCP peer is a configured
// proxy, and then only as far back as the chain of configured proxies reaches. Otherwise a
// spoofed header could slip into a tenant's IP range or frame another address for a ban.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "net/ip_address.hpp"

namespace provgate::net {

// Which header the configured proxies write. Exactly one is honoured: if the proxies write
// X-Forwarded-For but pass a client's own Forwarded header through, honouring both would
// let the client choose its address.
enum class ForwardedHeader : std::uint8_t { kNone, kForwarded, kXForwardedFor };

struct TrustedProxies {
  IpSet proxies;
  ForwardedHeader header = ForwardedHeader::kNone;
};

enum class ClientAddressSource : std::uint8_t {
  kPeer,              // the TCP peer (no trusted proxy, or it sent no header)
  kForwardingHeader,  // an address from the configured header
  // The hop where the client's address should be is not an address: the request cannot be
  // attributed to anyone and is refused (never attributed to the proxy).
  kMalformedHop,
};

struct ClientAddress {
  IpAddress address;
  ClientAddressSource source = ClientAddressSource::kPeer;
  // Non-empty when a trusted proxy sent a header that could not be used and the peer was
  // taken instead (for the audit record), or when an untrusted peer sent a forwarding header
  // ("forwarding header from untrusted peer ignored": a spoofing attempt worth logging).
  std::string note;
};

// Bounds on what a header may hold; longer headers are malformed.
inline constexpr size_t kMaxForwardedHeaderBytes = 8192;
inline constexpr size_t kMaxForwardedHops = 64;

// `forwarded` and `x_forwarded_for` are the values of all lines of that header in request
// order, joined with "," (an empty view when absent); only the one named by
// `trusted.header` is read. Walks the hops right to left, skipping trusted proxies, and
// returns the first untrusted address (or the leftmost when every hop is trusted). Hops to
// the left of it are never parsed for meaning, so what a client wrote there cannot change
// the answer. A hop reached on that walk that is not an address (malformed, "unknown" or an
// obfuscated Forwarded node) yields kMalformedHop with a note. X-Forwarded-For is read from
// its right end only, at most kMaxForwardedHops hops (more trusted hops than that:
// kMalformedHop), so a client's own line cannot push the proxies' hops out of reach; a
// Forwarded header (read whole: quoted strings hold commas) over the bounds yields
// kMalformedHop. Never fails; pure.
ClientAddress ResolveClientAddress(const IpAddress& peer, const TrustedProxies& trusted, std::string_view forwarded,
                                   std::string_view x_forwarded_for);

// The hops of a header value, left to right, each an address or nullopt when that element
// is not one. Fails only for a value over kMaxForwardedHeaderBytes or kMaxForwardedHops.
Result<std::vector<std::optional<IpAddress>>> XForwardedForHops(std::string_view value);
Result<std::vector<std::optional<IpAddress>>> ForwardedHops(std::string_view value);

// The hop addresses of an X-Forwarded-For value, left to right. Elements are addresses,
// optionally "[v6]" or with a ":port" (v4 or bracketed v6). Exposed for fuzzing and tests.
Result<std::vector<IpAddress>> ParseXForwardedFor(std::string_view value);
// The for= addresses of a Forwarded (RFC 7239) value, left to right. Every element must
// carry exactly one for= whose node is an address (optionally quoted, bracketed, with a
// port); "unknown" and obfuscated ("_x") nodes are errors here because no address can be
// derived from them. Other parameters (by, proto, host, extensions) are syntax-checked and
// ignored.
Result<std::vector<IpAddress>> ParseForwarded(std::string_view value);

}  // namespace provgate::net
