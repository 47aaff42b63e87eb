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
      {"a,b\n\"open", "line 2: unterminated"}, {"a,b\nx\"y,z\n", "line 2: quote inside"},
      {"\"a\"b,c\n", "line 1: text after"},    {std::string("a,b\0c\n", 6), "line 1: NUL"},
      {"a\rb\n", "line 1: bare carriage"},     {std::string(2000, 'x') + "\n", "line 1: field longer"},
  };
  for (const auto& [text, expect] : cases) {
    auto r = ParseCsv(text);
    ASSERT_FALSE(r) << expect;
    EXPECT_NE(r.error().message.find(expect), std::string::npos) << r.error().message;
  }
}

// Every record of `text` fed in pieces cut at `cuts` (ascending offsets), or the error.
Result<std::vector<CsvRecord>> ParseInPieces(std::string_view text, const std::vector<size_t>& cuts) {
  CsvReader reader;
  std::vector<CsvRecord> out;
  size_t from = 0;
  auto drain = [&]() -> Status {
    for (;;) {
      PG_TRY(auto record, reader.Next());
      if (!record) return Ok();
      out.push_back(std::move(*record));
    }
  };
  for (size_t i = 0; i <= cuts.size(); ++i) {
    const size_t to = i < cuts.size() ? cuts[i] : text.size();
    // A copy per piece, dropped once drained: the reader must not look back at old pieces.
    const std::string piece(text.substr(from, to - from));
    reader.Feed(piece);
    PG_TRY_STATUS(drain());
    from = to;
  }
  reader.Finish();
  PG_TRY_STATUS(drain());
  return out;
}

void ExpectSame(const Result<std::vector<CsvRecord>>& whole, const Result<std::vector<CsvRecord>>& pieces,
                const std::string& where) {
  ASSERT_EQ(whole.has_value(), pieces.has_value()) << where;
  if (!whole) {
    EXPECT_EQ(whole.error().message, pieces.error().message) << where;
    return;
  }
  ASSERT_EQ(whole->size(), pieces->size()) << where;
  for (size_t i = 0; i < whole->size(); ++i) {
    EXPECT_EQ((*whole)[i].line, (*pieces)[i].line) << where;
    EXPECT_EQ((*whole)[i].fields, (*pieces)[i].fields) << where;
  }
}

const std::string kSplitCases[] = {
    "mac,model\r\n\"00:15:65:00:00:01\",\"T5\"\"4W\"\n\n001565000002,\"a,b\r\nc\"\r\nx,\"\"\n,\n",
    "a,b\n\"open",
    "a,b\nx\"y,z\n",
    "\"a\"b,c\n",
    "a\rb\n",
    "a,b\r",
    "\"q\"\"\"",
};

TEST(CsvReader, RecordsAndErrorsAreTheSameWhereverTheTextIsCut) {
  for (const auto& text : kSplitCases) {
    const auto whole = ParseCsv(text);
    for (size_t cut = 0; cut <= text.size(); ++cut) {
      ExpectSame(whole, ParseInPieces(text, {cut}), text + " cut at " + std::to_string(cut));
      for (size_t second = cut; second <= text.size(); ++second) {
        ExpectSame(whole, ParseInPieces(text, {cut, second}),
                   text + " cut at " + std::to_string(cut) + " and " + std::to_string(second));
      }
    }
  }
}

TEST(CsvReader, HandsOutEachRecordAsSoonAsItsLineEnds) {
  CsvReader reader;
  reader.Feed("mac,model\n0015");
  auto first = reader.Next();
  ASSERT_TRUE(first && *first);
  EXPECT_EQ((*first)->fields, (std::vector<std::string>{"mac", "model"}));
  auto none = reader.Next();
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);  // the second record is not complete yet
  reader.Feed("65000001,T54W\n");
  auto second = reader.Next();
  ASSERT_TRUE(second && *second);
  EXPECT_EQ((*second)->fields, (std::vector<std::string>{"001565000001", "T54W"}));
  EXPECT_EQ((*second)->line, 2u);
}

TEST(CsvReader, AnErrorIsFinal) {
  CsvReader reader;
  reader.Feed(std::string_view("a\0b\n", 4));
  ASSERT_FALSE(reader.Next());
  reader.Finish();
  auto again = reader.Next();
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message.find("line 1: NUL"), std::string::npos);
}

TEST(Csv, RejectsAFieldOfDoubledQuotesLongerThanTheLimit) {
  std::string text = "\"";
  for (size_t i = 0; i <= kMaxCsvFieldBytes; ++i) text += "\"\"";
  text += "\"\n";
  auto r = ParseCsv(text);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("field longer"), std::string::npos);
}

}  // namespace
}  // namespace provgate::service
