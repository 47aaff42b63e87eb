#include "api/query.hpp"

#include <gtest/gtest.h>

namespace provgate::api {
namespace {

TEST(PercentDecode, AFormFieldReadsPlusAsSpaceAndKeepsLineBreaks) {
  EXPECT_EQ(PercentDecode("a+b%2B"), "a+b+");
  EXPECT_EQ(PercentDecode("a+b%2B", PercentForm::kFormField), "a b+");
  EXPECT_FALSE(PercentDecode("line%0Abreak"));
  EXPECT_EQ(PercentDecode("line%0Abreak", PercentForm::kFormField), "line\nbreak");
  for (const auto form : {PercentForm::kQuery, PercentForm::kFormField}) {
    EXPECT_FALSE(PercentDecode("nul%00", form));
    EXPECT_FALSE(PercentDecode("del%7F", form));
    EXPECT_FALSE(PercentDecode("cut%4", form));
    EXPECT_FALSE(PercentDecode("bad%zz", form));
  }
}

TEST(ParseTarget, SplitsPathAndDecodesSegments) {
  auto t = ParseTarget("/api/v1/bans/192.0.2.0%2F24?limit=5&tenant=acme+co");
  ASSERT_TRUE(t) << t.error().message;
  ASSERT_EQ(t->segments.size(), 4u);
  EXPECT_EQ(t->segments[3], "192.0.2.0/24");
  ASSERT_EQ(t->query.size(), 2u);
  EXPECT_EQ(t->query[1].second, "acme co");
}

TEST(ParseTarget, RejectsRepeatedParameterNamingIt) {
  auto t = ParseTarget("/api/v1/devices?limit=1&limit=2");
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(t.error().message.find("limit"), std::string::npos);
}

TEST(ParseTarget, RejectsMalformedEncodingAndDotSegments) {
  EXPECT_FALSE(ParseTarget("/api/v1/devices?state=%zz"));
  EXPECT_FALSE(ParseTarget("/api/v1/devices?state=%0a"));
  EXPECT_FALSE(ParseTarget("/api/v1/../v1/devices"));
  EXPECT_FALSE(ParseTarget("/api//devices"));
  EXPECT_FALSE(ParseTarget("/api/v1/devices/"));
  EXPECT_FALSE(ParseTarget("/api/v1/devices?Bad=1"));
  EXPECT_FALSE(ParseTarget("api/v1"));
  EXPECT_FALSE(ParseTarget("/a%00b"));
}

TEST(QueryReader, TypedGettersNameTheParameter) {
  auto t = ParseTarget("/x?limit=abc&locked=yes&since=2025-01-31T12:00:00Z").value();
  QueryReader q(t.query);
  EXPECT_FALSE(q.Int("limit", 1, 10));
  ASSERT_TRUE(q.problem());
  EXPECT_EQ(q.problem()->errors.at(0).field, "limit");
  QueryReader q2(t.query);
  EXPECT_FALSE(q2.Bool("locked"));
  EXPECT_EQ(q2.problem()->errors.at(0).field, "locked");
  QueryReader q3(t.query);
  EXPECT_EQ(q3.Time("since"), 1738324800);
  EXPECT_FALSE(q3.problem());
}

}  // namespace
}  // namespace provgate::api
