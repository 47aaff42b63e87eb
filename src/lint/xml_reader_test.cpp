#include "lint/xml_reader.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace provgate::lint {
namespace {

// Records the events as text: "<name a=v>", "</>", "'text'".
class Recorder final : public XmlVisitor {
 public:
  void StartElement(std::string_view name, std::span<const XmlAttribute> attributes) override {
    events += "<" + std::string(name);
    for (const auto& a : attributes) events += " " + std::string(a.name) + "=" + std::string(a.value);
    events += ">";
  }
  void EndElement() override { events += "</>"; }
  void Text(std::string_view text) override { events += "'" + std::string(text) + "'"; }
  std::string events;
};

std::string Error(std::string_view doc, std::size_t max_depth = 8) {
  Recorder r;
  const Status read = ReadXml(doc, r, max_depth);
  return read ? std::string() : read.error().message;
}

TEST(ReadXml, ReportsElementsAttributesAndDecodedText) {
  Recorder r;
  ASSERT_TRUE(ReadXml(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- c -->\n<a x=\"1&amp;2\" y='&#65;'>t&lt;<b/></a>", r, 8));
  EXPECT_EQ(r.events, "<a x=1&2 y=A>'t''<'<b></></>");
}

TEST(ReadXml, RefusesWhatIsNotWellFormed) {
  for (const char* bad :
       {"", "text", "<a>", "<a></b>", "<a><b></a></b>", "<a x=\"1\" x=\"2\"/>", "<a x=1/>", "<a>&bogus;</a>",
        "<a>&#0;</a>", "<a>&#xD800;</a>", "<a>&#1114112;</a>", "<a/><b/>", "<a>x<</a>", "<a x=\"<\"/>",
        "<a><!-- -- --></a>", "<a\x01/>", "<a b=\"1\"c=\"2\"/>", "<a>\xff</a>", " <?xml version=\"1.0\"?><a/>"}) {
    EXPECT_NE(Error(bad), "") << bad;
  }
}

TEST(ReadXml, RefusesDtdsCdataAndProcessingInstructions) {
  // Expat reports a declaration once it has read its name, so the column is past its start.
  for (const char* doc : {"<!DOCTYPE a><a/>", "<!DOCTYPE a [<!ENTITY e \"x\">]><a>&e;</a>"}) {
    const std::string error = Error(doc);
    EXPECT_TRUE(error.starts_with("line 1, column ")) << error;
    EXPECT_TRUE(error.ends_with(": document type declarations are not allowed")) << error;
  }
  EXPECT_EQ(Error("<a>\n <![CDATA[x]]></a>"), "line 2, column 2: CDATA sections are not allowed");
  EXPECT_EQ(Error("<a><?pi x?></a>"), "line 1, column 4: processing instructions are not allowed");
}

TEST(ReadXml, RefusesNestingBeyondTheLimit) {
  EXPECT_EQ(Error("<a><a><a></a></a></a>", 3), "");
  EXPECT_EQ(Error("<a><a><a><a></a></a></a></a>", 3), "line 1, column 10: nesting too deep");
}

TEST(ReadXml, ErrorsNameTheLineAndColumn) {
  EXPECT_EQ(Error("<a>\n  <b>\n  </c>\n</a>"), "line 3, column 5: mismatched tag");
}

}  // namespace
}  // namespace provgate::lint
