#include "defense/redact.hpp"

#include <algorithm>

#include "defense/digest.hpp"
#include "defense/tokens.hpp"

namespace provgate::defense {
namespace {

bool LooksLikeToken(std::string_view s) {
  return s.size() >= kMinTokenLength && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7');
         });
}

bool IsTchar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

}  // namespace

std::string RedactTarget(std::string_view target) {
  std::string out;
  RedactTarget(target, out);
  return out;
}

void RedactTarget(std::string_view target, std::string& out) {
  const size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  out.clear();
  out.reserve(target.size());
  bool after_p = false;
  for (;;) {
    const size_t slash = path.find('/');
    const std::string_view segment = path.substr(0, slash);
    if ((after_p && !segment.empty()) || LooksLikeToken(segment)) {
      out += "[redacted]";
    } else {
      out += segment;
    }
    after_p = segment == "p";
    if (slash == std::string_view::npos) break;
    out += '/';
    path.remove_prefix(slash + 1);
  }
  if (q != std::string_view::npos) out += "?[redacted]";
}

std::string RedactAuthorization(std::string_view header_value) {
  size_t n = 0;
  while (n < header_value.size() && n < 32 && IsTchar(header_value[n])) ++n;
  if (n == 0 || n == header_value.size() || header_value[n] != ' ') return "[redacted]";
  const std::string_view scheme = header_value.substr(0, n);
  if (auto c = ParseDigestAuthorization(header_value)) {
    std::string user;
    for (char ch : std::string_view(c->username).substr(0, 64)) {
      const bool printable = ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\';
      user.push_back(printable ? ch : '?');
    }
    return "Digest username=\"" + user + "\", [redacted]";
  }
  return std::string(scheme) + " [redacted]";
}

}  // namespace provgate::defense
