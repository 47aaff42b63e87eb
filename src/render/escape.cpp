#include "render/escape.hpp"

#include <cstdint>

namespace provgate::render {
namespace {

// Length of the well-formed UTF-8 sequence starting at s[i] and its code point, or 0 when the
// bytes there are not a valid sequence (overlong forms, surrogates and truncation included).
std::size_t DecodeUtf8(std::string_view s, std::size_t i, std::uint32_t& cp) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  std::size_t len = 0;
  std::uint32_t min = 0;
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  } else if ((b0 & 0xe0) == 0xc0) {
    len = 2, cp = b0 & 0x1fu, min = 0x80;
  } else if ((b0 & 0xf0) == 0xe0) {
    len = 3, cp = b0 & 0x0fu, min = 0x800;
  } else if ((b0 & 0xf8) == 0xf0) {
    len = 4, cp = b0 & 0x07u, min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3fu);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return len;
}

void AppendKeyValue(std::string& out, std::string_view value) {
  // A key = value line ends at CR or LF; every control character becomes a space so the value
  // can neither start a new key nor hide one from a reviewer's terminal.
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20 || u == 0x7f ? ' ' : c);
  }
}

void AppendXml(std::string& out, std::string_view value) {
  for (std::size_t i = 0; i < value.size();) {
    std::uint32_t cp = 0;
    const std::size_t len = DecodeUtf8(value, i, cp);
    if (len == 0) {
      // Invalid UTF-8 would make the whole document ill-formed: substitute U+FFFD.
      out += "\xef\xbf\xbd";
      ++i;
      continue;
    }
    if (len > 1) {
      if (cp != 0xfffe && cp != 0xffff) out.append(value.substr(i, len));
      i += len;
      continue;
    }
    const char c = value[i++];
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      // Character references survive attribute-value normalisation, so a value keeps its
      // whitespace without ever ending the attribute or the line.
      case '\t': out += "&#9;"; break;
      case '\n': out += "&#10;"; break;
      case '\r': out += "&#13;"; break;
      default:
        // Other C0 controls are not allowed in XML 1.0 at all; DEL is discouraged.
        if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) out.push_back(c);
        break;
    }
  }
}

}  // namespace

std::string_view FormatName(Format f) {
  switch (f) {
    case Format::kKeyValue: return "key-value";
    case Format::kXml: return "xml";
  }
  return "unknown";
}

void AppendEscaped(std::string& out, std::string_view value, Format format) {
  switch (format) {
    case Format::kKeyValue: AppendKeyValue(out, value); return;
    case Format::kXml: AppendXml(out, value); return;
  }
}

}  // namespace provgate::render
