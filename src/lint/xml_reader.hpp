// One XML document read with expat, for the parsers of rendered phone configs and the
// well-formedness checks of the template tests. On top of what expat refuses as not
// well-formed (mismatched or unclosed tags, repeated attributes, undefined entities, bad
// character references, invalid UTF-8, content after the root), ReadXml refuses document type
// declarations (so no entity but the predefined ones and character references can appear, and
// none expands), CDATA sections, processing instructions and nesting deeper than max_depth.
// Trust level: any bytes; expat keeps no state between calls.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "base/result.hpp"

namespace provgate::lint {

struct XmlAttribute {
  std::string_view name;
  std::string_view value;  // references decoded, whitespace normalised as XML requires
};

// Receives the document's events in order; the views are valid during the call only.
class XmlVisitor {
 public:
  virtual ~XmlVisitor() = default;
  // Attributes in document order.
  virtual void StartElement(std::string_view name, std::span<const XmlAttribute> attributes) = 0;
  virtual void EndElement() = 0;
  // Character data of the innermost open element (references decoded), possibly in pieces.
  virtual void Text(std::string_view text) = 0;
};

// Ok when `doc` is one well-formed document of the kind above; else kInvalidArgument
// "line L, column C: <reason>" (both 1-based), the position where reading stopped. The
// visitor may have seen events before the error.
Status ReadXml(std::string_view doc, XmlVisitor& visitor, std::size_t max_depth);

}  // namespace provgate::lint
