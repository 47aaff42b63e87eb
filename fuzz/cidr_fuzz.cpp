#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "net/ip_address.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto ip = provgate::net::IpAddress::Parse(text)) {
    // Canonical text round-trips and is stable.
    auto again = provgate::net::IpAddress::Parse(ip->ToString());
    if (!again || *again != *ip || again->ToString() != ip->ToString()) std::abort();
  }
  if (auto cidr = provgate::net::Cidr::Parse(text)) {
    auto again = provgate::net::Cidr::Parse(cidr->ToString());
    if (!again || *again != *cidr) std::abort();
    if (!cidr->Contains(cidr->network())) std::abort();
    auto of = provgate::net::Cidr::Of(cidr->network(), cidr->prefix_length());
    if (!of || *of != *cidr || !cidr->Overlaps(*of)) std::abort();
  }
  return 0;
}
