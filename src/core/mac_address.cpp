#include "core/mac_address.hpp"

#include <cctype>

namespace provgate::core {
namespace {

bool IsHex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

char Lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

// Checks that `text` is hex groups of `group` digits separated by `sep`.
bool SplitGroups(std::string_view text, char sep, size_t group, std::string& out) {
  const size_t groups = 12 / group;
  if (text.size() != 12 + groups - 1) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    const bool sep_pos = (i + 1) % (group + 1) == 0;
    if (sep_pos) {
      if (text[i] != sep) return false;
    } else {
      if (!IsHex(text[i])) return false;
      out.push_back(Lower(text[i]));
    }
  }
  return true;
}

}  // namespace

Result<MacAddress> MacAddress::Parse(std::string_view text) {
  std::string out;
  out.reserve(12);
  if (text.size() == 12) {
    for (char c : text) {
      if (!IsHex(c)) return Error::InvalidArgument("MAC address must be 12 hex digits");
      out.push_back(Lower(c));
    }
    return MacAddress(std::move(out));
  }
  if (text.size() == 17 && (text[2] == ':' || text[2] == '-')) {
    if (SplitGroups(text, text[2], 2, out)) return MacAddress(std::move(out));
  } else if (text.size() == 14 && text[4] == '.') {
    if (SplitGroups(text, '.', 4, out)) return MacAddress(std::move(out));
  }
  return Error::InvalidArgument(
      "MAC address must be 12 hex digits, optionally separated by ':' or '-' (e.g. 00:15:65:aa:bb:cc)");
}

std::string MacAddress::Upper() const {
  std::string s = canonical_;
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string MacAddress::WithColons() const {
  std::string s;
  for (size_t i = 0; i < 12; i += 2) {
    if (i) s.push_back(':');
    s.append(canonical_, i, 2);
  }
  return s;
}

}  // namespace provgate::core
