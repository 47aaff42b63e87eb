#include "portal/form.hpp"

#include "api/query.hpp"

namespace provgate::portal {
namespace {

Result<std::string> Decode(std::string_view s) {
  auto decoded = api::PercentDecode(s, api::PercentForm::kFormField);
  if (!decoded) return Error::InvalidArgument("bad percent escape or control character in a form field");
  return std::move(*decoded);
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
