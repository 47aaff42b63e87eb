#include "lint/config_parse.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace provgate::lint {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

Pairs Parse(std::string_view text, Syntax syntax) {
  auto r = ParseConfig(text, syntax);
  EXPECT_TRUE(r) << (r ? "" : r.error().message);
  Pairs out;
  if (r) {
    for (const auto& s : *r) out.emplace_back(s.key, s.value);
  }
  return out;
}

TEST(ConfigParse, ReadsKeyValueFilesWithIncludes) {
  EXPECT_EQ(Parse("#!version:1.0.0.1\n## c\n\na.b_c = 1\nx = y = z\r\n[T46S]include:config \"y0.cfg\"\n"
                  "include:config \"m.cfg\"\n",
                  Syntax::kKeyValue),
            (Pairs{{"a.b_c", "1"}, {"x", "y = z"}, {"include:config", "y0.cfg"}, {"include:config", "m.cfg"}}));
}

TEST(ConfigParse, RejectsMalformedKeyValueLines) {
  for (const char* bad : {"novalue\n", " = 1\n", "a b = 1\n", "a=1\n", "include:config \"x\n",
                          "[T46S include:config \"x\"\n", "a = 1\x01\n"}) {
    EXPECT_FALSE(ParseConfig(bad, Syntax::kKeyValue)) << bad;
  }
}

TEST(ConfigParse, ReadsXmlAttributes) {
  EXPECT_EQ(Parse("<?xml version=\"1.0\"?>\n<!-- c -->\n<p><reg a.b=\"1&amp;2\" c='&#65;&#x42;'/></p>",
                  Syntax::kXmlAttributes),
            (Pairs{{"a.b", "1&2"}, {"c", "AB"}}));
}

TEST(ConfigParse, ReadsXmlLeafElements) {
  const char* doc =
      "<?xml version=\"1.0\"?><r><Proxy_1_>sip:5060</Proxy_1_><item name=\"account.1.enable\">Yes</item>"
      "<param name=\"A.B\" value=\"v\"/><user_pass idx=\"2\" perm=\"R\">p&lt;w</user_pass>"
      "<sip><line index=\"3\"><AutoAnswer>0</AutoAnswer></line></sip><empty/></r>";
  EXPECT_EQ(Parse(doc, Syntax::kXmlElements), (Pairs{{"Proxy_1_", "sip:5060"},
                                                     {"account.1.enable", "Yes"},
                                                     {"A.B", "v"},
                                                     {"user_pass[2]", "p<w"},
                                                     {"AutoAnswer[3]", "0"},
                                                     {"empty", ""}}));
}

TEST(ConfigParse, RejectsMalformedXml) {
  for (const char* bad : {"",
                          "text",
                          "<a>",
                          "<a></b>",
                          "<a><b></a></b>",
                          "<a x=\"1\" x=\"2\"/>",
                          "<a x=1/>",
                          "<a>&bogus;</a>",
                          "<a>&#0;</a>",
                          "<a>&#xD800;</a>",
                          "<a>&#1114112;</a>",
                          "<a><![CDATA[x]]></a>",
                          "<!DOCTYPE a><a/>",
                          "<a><?pi x?></a>",
                          "<a/><b/>",
                          "<a>x<</a>",
                          "<a x=\"<\"/>",
                          "<a><!-- -- --></a>",
                          "<a\x01/>",
                          "<a b=\"1\"c=\"2\"/>"}) {
    EXPECT_FALSE(ParseConfig(bad, Syntax::kXmlElements)) << bad;
  }
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += "<a>";
  EXPECT_FALSE(ParseConfig(deep, Syntax::kXmlElements));
  EXPECT_FALSE(ParseConfig(std::string(kMaxConfigBytes + 1, ' '), Syntax::kXmlElements));
}

TEST(ConfigParse, ErrorsNameTheLineForOperators) {
  auto kv = ParseConfig("#!version:1.0.0.1\na = 1\nnot a setting\n", Syntax::kKeyValue);
  ASSERT_FALSE(kv);
  EXPECT_EQ(kv.error().message, "line 3, column 1: not a key = value line");
  auto control = ParseConfig("a = 1\nb = \x01\n", Syntax::kKeyValue);
  ASSERT_FALSE(control);
  EXPECT_EQ(control.error().message, "line 2, column 5: control character");
  auto xml = ParseConfig("<?xml version=\"1.0\"?>\n<r>\n  <a>1</b>\n</r>\n", Syntax::kXmlElements);
  ASSERT_FALSE(xml);
  EXPECT_EQ(xml.error().message, "line 3, column 9: mismatched tag");
}

}  // namespace
}  // namespace provgate::lint
