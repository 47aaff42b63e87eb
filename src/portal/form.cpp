#include "portal/form.hpp"

namespace provgate::portal {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> Decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '+') {
      c = ' ';
    } else if (c == '%') {
      if (i + 2 >= s.size()) return Error::InvalidArgument("bad percent escape");
      const int hi = HexValue(s[i + 1]);
      const int lo = HexValue(s[i + 2]);
      if (hi < 0 || lo < 0) return Error::InvalidArgument("bad percent escape");
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t' && c != '\r' && c != '\n') || u == 0x7f) {
      return Error::InvalidArgument("control character in a form field");
    }
    out += c;
  }
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

Result<std::map<std::string, std::string>> ParseForm(std::string_view body) {
  std::map<std::string, std::string> fields;
  while (!body.empty()) {
    const auto amp = body.find('&');
    const std::string_view pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
    if (pair.empty()) continue;
    if (fields.size() >= kMaxFormFields) return Error::InvalidArgument("too many form fields");
    const auto eq = pair.find('=');
    PG_TRY(std::string name, Decode(pair.substr(0, eq)));
    PG_TRY(std::string value, Decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1)));
    if (!fields.emplace(std::move(name), std::move(value)).second) {
      return Error::InvalidArgument("repeated form field");
    }
  }
  return fields;
}

std::optional<std::string> FindCookie(const std::vector<std::string>& cookie_lines, std::string_view name) {
  std::optional<std::string> found;
  for (std::string_view line : cookie_lines) {
    while (!line.empty()) {
      const auto semi = line.find(';');
      const std::string_view pair = Trim(line.substr(0, semi));
      line = semi == std::string_view::npos ? std::string_view() : line.substr(semi + 1);
      const auto eq = pair.find('=');
      if (eq == std::string_view::npos || Trim(pair.substr(0, eq)) != name) continue;
      if (found) return std::nullopt;
      std::string_view value = Trim(pair.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
      found = std::string(value);
    }
  }
  return found;
}

}  // namespace provgate::portal
