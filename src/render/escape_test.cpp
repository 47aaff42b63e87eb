#include "render/escape.hpp"

#include <gtest/gtest.h>

#include <string>

namespace provgate::render {
namespace {

std::string Esc(std::string_view v, Format f) {
  std::string out = "pre:";
  AppendEscaped(out, v, f);
  return out;
}

TEST(Escape, KeyValueReplacesEveryControlCharacterWithSpace) {
  EXPECT_EQ(Esc("Alice", Format::kKeyValue), "pre:Alice");
  EXPECT_EQ(Esc("a\nb\rc\td", Format::kKeyValue), "pre:a b c d");
  EXPECT_EQ(Esc(std::string_view("a\0b\x1f\x7f"
                                 "c",
                                 6),
                Format::kKeyValue),
            "pre:a b  c");
  EXPECT_EQ(Esc("x\naccount.1.password = y", Format::kKeyValue), "pre:x account.1.password = y");
}

TEST(Escape, KeyValueKeepsPrintableAndUtf8) {
  EXPECT_EQ(Esc("M\xc3\xbcller = <&\"'>", Format::kKeyValue), "pre:M\xc3\xbcller = <&\"'>");
}

TEST(Escape, XmlEscapesMarkupCharacters) {
  EXPECT_EQ(Esc("a&b<c>d\"e'f", Format::kXml), "pre:a&amp;b&lt;c&gt;d&quot;e&apos;f");
  EXPECT_EQ(Esc("\"/><evil a=\"1", Format::kXml), "pre:&quot;/&gt;&lt;evil a=&quot;1");
}

TEST(Escape, XmlKeepsWhitespaceAsCharacterReferences) {
  EXPECT_EQ(Esc("a\tb\nc\rd", Format::kXml), "pre:a&#9;b&#10;c&#13;d");
}

TEST(Escape, XmlDropsInvalidControlCharacters) {
  EXPECT_EQ(Esc(std::string_view("a\0b\x01\x1f\x7f"
                                 "c",
                                 7),
                Format::kXml),
            "pre:abc");
}

TEST(Escape, XmlReplacesInvalidUtf8) {
  EXPECT_EQ(Esc("M\xc3\xbcller \xe2\x82\xac", Format::kXml), "pre:M\xc3\xbcller \xe2\x82\xac");
  EXPECT_EQ(Esc("a\xff"
                "b",
                Format::kXml),
            "pre:a\xef\xbf\xbd"
            "b");
  EXPECT_EQ(Esc("a\xc3", Format::kXml), "pre:a\xef\xbf\xbd");                                // truncated
  EXPECT_EQ(Esc("\xc0\xaf", Format::kXml), "pre:\xef\xbf\xbd\xef\xbf\xbd");                  // overlong '/'
  EXPECT_EQ(Esc("\xed\xa0\x80", Format::kXml), "pre:\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");  // surrogate
  EXPECT_EQ(Esc("a\xef\xbf\xbf"
                "b",
                Format::kXml),
            "pre:ab");  // U+FFFF
  EXPECT_EQ(Esc("\xf0\x9f\x98\x80", Format::kXml), "pre:\xf0\x9f\x98\x80");
}

TEST(Escape, FormatNames) {
  EXPECT_EQ(FormatName(Format::kKeyValue), "key-value");
  EXPECT_EQ(FormatName(Format::kXml), "xml");
}

}  // namespace
}  // namespace provgate::render
