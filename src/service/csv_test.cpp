#include "service/csv.hpp"

#include <gtest/gtest.h>

namespace provgate::service {
namespace {

TEST(Csv, ParsesQuotedFieldsEscapesAndLineEnds) {
  auto r = ParseCsv("mac,model\r\n\"00:15:65:00:00:01\",\"T5\"\"4W\"\n\n001565000002,\"a,b\nc\"\n");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[1].fields[1], "T5\"4W");
  EXPECT_EQ((*r)[1].line, 2u);
  EXPECT_EQ((*r)[2].fields[1], "a,b\nc");
  EXPECT_EQ((*r)[2].line, 4u);
}

TEST(Csv, KeepsEmptyFieldsAndLastLineWithoutNewline) {
  auto r = ParseCsv("a,,c\nd,e,");
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)[0].fields, (std::vector<std::string>{"a", "", "c"}));
  EXPECT_EQ((*r)[1].fields, (std::vector<std::string>{"d", "e", ""}));
}

TEST(Csv, RejectsMalformedInputNamingTheLine) {
  const std::pair<std::string, std::string> cases[] = {
      {"a,b\n\"open", "line 2: unterminated"},
      {"a,b\nx\"y,z\n", "line 2: quote inside"},
      {"\"a\"b,c\n", "line 1: text after"},
      {std::string("a,b\0c\n", 6), "line 1: NUL"},
      {"a\rb\n", "line 1: bare carriage"},
      {std::string(2000, 'x') + "\n", "line 1: field longer"},
  };
  for (const auto& [text, expect] : cases) {
    auto r = ParseCsv(text);
    ASSERT_FALSE(r) << expect;
    EXPECT_NE(r.error().message.find(expect), std::string::npos) << r.error().message;
  }
}

}  // namespace
}  // namespace provgate::service
