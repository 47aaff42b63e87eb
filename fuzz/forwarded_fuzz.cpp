#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "net/forwarded.hpp"

namespace {

const provgate::net::IpSet& Proxies() {
  static const auto set = provgate::net::IpSet::Parse({"10.0.0.0/8", "2001:db8::/32"}).value();
  return set;
}

}  // namespace

// The first byte picks the header mode; the rest is the header value.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  using provgate::net::ForwardedHeader;
  const auto mode = static_cast<ForwardedHeader>(data[0] % 3);
  const std::string_view value(reinterpret_cast<const char*>(data + 1), size - 1);
  (void)provgate::net::ParseForwarded(value);
  (void)provgate::net::ParseXForwardedFor(value);
  const auto peer = provgate::net::IpAddress::Parse("10.0.0.1").value();
  const provgate::net::TrustedProxies trusted{Proxies(), mode};
  const auto r = provgate::net::ResolveClientAddress(peer, trusted, value, value);
  // An untrusted peer's header never moves the address.
  const auto outsider = provgate::net::IpAddress::Parse("192.0.2.1").value();
  if (provgate::net::ResolveClientAddress(outsider, trusted, value, value).address != outsider) {
    std::abort();
  }
  (void)r;
  return 0;
}
