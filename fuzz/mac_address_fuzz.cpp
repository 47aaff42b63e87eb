#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/mac_address.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto mac = provgate::core::MacAddress::Parse(text);
  if (mac) {
    // Round trip: the canonical form must parse to itself.
    auto again = provgate::core::MacAddress::Parse(mac->str());
    if (!again || *again != *mac || mac->str().size() != 12) std::abort();
  }
  return 0;
}
