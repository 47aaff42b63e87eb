// Test helper: the well-formedness check of the XML templates' golden tests, by expat
// (lint/xml_reader.hpp: no DTDs, CDATA or processing instructions, which the templates never
// use, so meeting one is a failure too), with a summary of what the document holds.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace provgate::vendors::testing {

struct XmlSummary {
  std::vector<std::string> elements;          // in document order
  std::vector<std::string> attributes;        // names, in document order
  std::map<std::string, std::string> values;  // attribute name -> decoded value (last wins)
};

// Empty string when `doc` is well-formed (summary filled), else "line L, column C: <reason>".
std::string CheckXml(std::string_view doc, XmlSummary& summary);

}  // namespace provgate::vendors::testing
