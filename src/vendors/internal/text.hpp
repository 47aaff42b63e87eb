// Small matching helpers shared by the vendor modules. Everything here works on bounded,
// attacker-controlled strings and never allocates more than its input.
#pragma once

#include <boost/container/small_vector.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/mac_address.hpp"
#include "vendors/vendor.hpp"

namespace provgate::vendors::internal {

inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }
inline bool IsLowerHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f'); }
inline bool IsUpperHex(char c) { return IsDigit(c) || (c >= 'A' && c <= 'F'); }
inline bool IsHex(char c) { return IsLowerHex(c) || (c >= 'A' && c <= 'F'); }
inline bool IsAlnum(char c) { return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
inline bool IsLowerAlnum(char c) { return IsDigit(c) || (c >= 'a' && c <= 'z'); }

// Model names of letters, digits, '-' and '_' (Grandstream GXP2170, Htek UC926_E).
inline bool IsDashedModelChar(char c) { return IsAlnum(c) || c == '-' || c == '_'; }

// User-Agent headers longer than this are not parsed: real phones send far less.
inline constexpr std::size_t kMaxUserAgent = 256;

inline bool AllOf(std::string_view s, bool (*pred)(char)) {
  for (char c : s) {
    if (!pred(c)) return false;
  }
  return !s.empty();
}

enum class HexCase { kLower, kUpper, kAny };

// 12 hex digits of the given case, not the all-zero placeholder.
std::optional<core::MacAddress> MacFromHex(std::string_view hex, HexCase letter_case);

// Space-separated tokens (runs of spaces collapse).
boost::container::small_vector<std::string_view, 8> Tokens(std::string_view s);

// A route skeleton with the given scope, template, format and content type.
FileRoute MakeRoute(FileScope scope, std::string template_name, render::Format format,
                    std::string_view content_type);  // a constant: the route keeps the view

inline constexpr std::string_view kXmlContentType = "application/xml";
inline constexpr std::string_view kTextContentType = "text/plain; charset=utf-8";

// The route of an XML file (kXml escaping, application/xml).
inline FileRoute XmlRoute(FileScope scope, std::string template_name) {
  return MakeRoute(scope, std::move(template_name), render::Format::kXml, kXmlContentType);
}

// Characters of a dotted numeric firmware version ("96.86.0.100").
inline bool IsDottedVersionChar(char c) { return IsDigit(c) || c == '.'; }

}  // namespace provgate::vendors::internal
