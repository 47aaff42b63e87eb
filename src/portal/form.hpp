// Parsers of the two pieces of browser input the portal reads: an
// application/x-www-form-urlencoded body and a Cookie header. Both are fuzzed
// (fuzz/portal_form_fuzz.cpp): bounded, no exceptions, nothing assumed about the bytes.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace provgate::portal {

inline constexpr size_t kMaxFormFields = 64;

// Field name -> value, percent-decoded ('+' is a space). kInvalidArgument for a bad
// percent escape, a repeated field (which one counts would be a guess), a control character
// other than tab/CR/LF after decoding, or more than kMaxFormFields fields.
Result<std::map<std::string, std::string>> ParseForm(std::string_view body);

// The value of cookie `name` in the Cookie field lines; nothing when it is absent, and
// nothing when it appears more than once (a cookie planted for a wider path or a parent
// domain must not win by order).
std::optional<std::string> FindCookie(const std::vector<std::string>& cookie_lines, std::string_view name);

}  // namespace provgate::portal
