// Parsers that turn a rendered phone config back into (key, value) settings, so policy can be
// checked on what a phone would actually read. Also the strict grammar check of the golden
// tests. Trust level: input is our own rendered output, but operators write templates and
// variables, so the parsers are bounded and fuzzed (fuzz/config_parse_fuzz.cpp): size and
// depth limits; XML is read by expat (lint/xml_reader.hpp) without DTDs, so no entity expands
// beyond the predefined ones and character references.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace provgate::lint {

enum class Syntax {
  // "key = value" lines (Yealink); '#' lines are comments; `include:config "<url>"` lines
  // (optionally prefixed by "[MODEL]") become key "include:config". Anything else is an error.
  kKeyValue,
  // XML where every attribute is a setting (Polycom <polycomConfig>, <APPLICATION>).
  kXmlAttributes,
  // XML where leaf elements are settings (Cisco flat profile, Grandstream, Snom, Fanvil,
  // Gigaset). A leaf with a `name` attribute is the setting of that name, valued by its
  // `value` attribute or else its text; any other leaf is keyed by its element name, with
  // "[i]" appended when it or its nearest ancestor carries an `idx` or `index` attribute i.
  kXmlElements,
};

struct Setting {
  std::string key;
  std::string value;  // entity references decoded
};

inline constexpr std::size_t kMaxConfigBytes = 1024 * 1024;
inline constexpr std::size_t kMaxXmlDepth = 32;

// kInvalidArgument "line L, column C: <reason>" (1-based; columns count bytes) when the text
// is not well-formed in `syntax` (XML: declaration, comments, elements, attributes, text and
// references only; no DTD, CDATA or processing instructions) or exceeds the limits above.
Result<std::vector<Setting>> ParseConfig(std::string_view text, Syntax syntax);

}  // namespace provgate::lint
