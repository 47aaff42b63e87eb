#include "vendors/internal/text.hpp"

namespace provgate::vendors::internal {

std::optional<core::MacAddress> MacFromHex(std::string_view hex, HexCase letter_case) {
  if (hex.size() != 12 || hex == "000000000000") return std::nullopt;
  bool (*pred)(char) = letter_case == HexCase::kLower   ? IsLowerHex
                       : letter_case == HexCase::kUpper ? IsUpperHex
                                                        : IsHex;
  if (!AllOf(hex, pred)) return std::nullopt;
  auto mac = core::MacAddress::Parse(hex);
  if (!mac) return std::nullopt;
  return *mac;
}

boost::container::small_vector<std::string_view, 8> Tokens(std::string_view s) {
  boost::container::small_vector<std::string_view, 8> out;  // a User-Agent has a handful
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    const std::size_t start = i;
    while (i < s.size() && s[i] != ' ') ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

FileRoute MakeRoute(FileScope scope, std::string template_name, render::Format format, std::string_view content_type) {
  FileRoute r;
  r.scope = scope;
  r.template_name = std::move(template_name);
  r.format = format;
  r.content_type = content_type;
  return r;
}

}  // namespace provgate::vendors::internal
