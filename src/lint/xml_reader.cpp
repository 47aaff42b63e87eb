#include "lint/xml_reader.hpp"

#include <expat.h>

#include <climits>
#include <memory>
#include <string>
#include <vector>

namespace provgate::lint {
namespace {

using ParserPtr = std::unique_ptr<XML_ParserStruct, decltype(&XML_ParserFree)>;

struct Reader {
  XML_Parser parser;
  XmlVisitor& visitor;
  std::size_t max_depth;
  std::size_t depth = 0;
  std::vector<XmlAttribute> attributes;  // reused for every start tag
  std::string refused;                   // our own reason for stopping, if any
  XML_Size line = 0;                     // where the refused construct starts
  XML_Size column = 0;

  // Inside a handler expat reports the start of the event's text.
  void Refuse(const char* why) {
    if (refused.empty()) {
      refused = why;
      line = XML_GetCurrentLineNumber(parser);
      column = XML_GetCurrentColumnNumber(parser);
    }
    XML_StopParser(parser, XML_FALSE);
  }
};

Reader& Of(void* user_data) { return *static_cast<Reader*>(user_data); }

void OnStart(void* user_data, const XML_Char* name, const XML_Char** atts) {
  Reader& r = Of(user_data);
  if (++r.depth > r.max_depth) return r.Refuse("nesting too deep");
  r.attributes.clear();
  for (const XML_Char** a = atts; *a != nullptr; a += 2) r.attributes.push_back({a[0], a[1]});
  r.visitor.StartElement(name, r.attributes);
}

void OnEnd(void* user_data, const XML_Char* /*name*/) {
  Reader& r = Of(user_data);
  --r.depth;
  r.visitor.EndElement();
}

void OnText(void* user_data, const XML_Char* text, int len) {
  Of(user_data).visitor.Text(std::string_view(text, static_cast<std::size_t>(len)));
}

void OnDoctype(void* user_data, const XML_Char*, const XML_Char*, const XML_Char*, int) {
  Of(user_data).Refuse("document type declarations are not allowed");
}

void OnCdata(void* user_data) { Of(user_data).Refuse("CDATA sections are not allowed"); }

void OnProcessingInstruction(void* user_data, const XML_Char*, const XML_Char*) {
  Of(user_data).Refuse("processing instructions are not allowed");
}

}  // namespace

Status ReadXml(std::string_view doc, XmlVisitor& visitor, std::size_t max_depth) {
  if (doc.size() > static_cast<std::size_t>(INT_MAX)) return Error::InvalidArgument("document too large");
  ParserPtr parser(XML_ParserCreate(nullptr), &XML_ParserFree);
  if (!parser) return Error::Internal("expat: out of memory");
  Reader reader{parser.get(), visitor, max_depth};
  XML_SetUserData(parser.get(), &reader);
  XML_SetElementHandler(parser.get(), OnStart, OnEnd);
  XML_SetCharacterDataHandler(parser.get(), OnText);
  XML_SetStartDoctypeDeclHandler(parser.get(), OnDoctype);
  XML_SetStartCdataSectionHandler(parser.get(), OnCdata);
  XML_SetProcessingInstructionHandler(parser.get(), OnProcessingInstruction);
  if (XML_Parse(parser.get(), doc.data(), static_cast<int>(doc.size()), XML_TRUE) == XML_STATUS_OK) return Ok();
  const bool refused = !reader.refused.empty();
  const std::string why = refused ? reader.refused : XML_ErrorString(XML_GetErrorCode(parser.get()));
  const XML_Size line = refused ? reader.line : XML_GetCurrentLineNumber(parser.get());
  const XML_Size column = refused ? reader.column : XML_GetCurrentColumnNumber(parser.get());
  return Error::InvalidArgument("line " + std::to_string(line) + ", column " + std::to_string(column + 1) + ": " + why);
}

}  // namespace provgate::lint
