// Format-aware escaping: every template variable is escaped for the syntax of the file it
// lands in, so a display name with a newline, '<', '&', quotes or '=' cannot inject a key
// or an element.
#pragma once

#include <string>
#include <string_view>

namespace provgate::render {

enum class Format {
  kKeyValue,  // Yealink-style "key = value" lines: CR/LF and other control characters removed
  kXml,       // XML text and attributes: & < > " ' as entities, control characters removed
};

std::string_view FormatName(Format f);

// Appends `value`, escaped for `format`, to `out`.
void AppendEscaped(std::string& out, std::string_view value, Format format);

}  // namespace provgate::render
