// Test helper: a strict well-formedness checker for the XML subset provgate templates emit
// (declaration, comments, elements, attributes, text, character and predefined entity
// references). No DTDs, CDATA or processing instructions: the templates never use them, so
// meeting one is a failure too.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace provgate::vendors::testing {

struct XmlSummary {
  std::vector<std::string> elements;                 // in document order
  std::vector<std::string> attributes;               // names, in document order
  std::map<std::string, std::string> values;         // attribute name -> decoded value (last wins)
};

// Empty string when `doc` is well-formed (summary filled), else a message with the offset.
std::string CheckXml(std::string_view doc, XmlSummary& summary);

}  // namespace provgate::vendors::testing
