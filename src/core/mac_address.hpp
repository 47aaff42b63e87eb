// A device's MAC address, canonical form 12 lowercase hex digits. Untrusted text (URL
// paths, certificate fields, CSV rows, CLI arguments) becomes a MacAddress only through
// Parse, so inside the core a raw string never stands for a MAC.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace provgate::core {

class MacAddress {
 public:
  // Accepts 12 hex digits in any case, bare or separated uniformly by ':' or '-' in pairs
  // (00:15:65:aa:bb:cc, 00-15-65-AA-BB-CC) or by '.' in groups of four (0015.65aa.bbcc).
  // Rejects mixed separators, wrong lengths and anything else.
  static Result<MacAddress> Parse(std::string_view text);
  // 000000000000: the placeholder of a value not yet filled in (no real device has it; Polycom
  // uses it for the common file). Lets structs holding a MAC be default-constructed.
  static MacAddress Zero() { return MacAddress(std::string(12, '0')); }

  // Returns 12 lowercase hex digits.
  const std::string& str() const { return canonical_; }
  std::string Upper() const;
  // aa:bb:cc:dd:ee:ff
  std::string WithColons() const;

  friend bool operator==(const MacAddress&, const MacAddress&) = default;
  friend auto operator<=>(const MacAddress&, const MacAddress&) = default;

 private:
  explicit MacAddress(std::string canonical) : canonical_(std::move(canonical)) {}
  std::string canonical_;
};

}  // namespace provgate::core

template <>
struct std::hash<provgate::core::MacAddress> {
  size_t operator()(const provgate::core::MacAddress& m) const noexcept { return std::hash<std::string>{}(m.str()); }
};
