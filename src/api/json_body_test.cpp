#include "api/json_body.hpp"

#include <gtest/gtest.h>

namespace provgate::api {
namespace {

TEST(ParseJsonObject, RefusesDuplicateKeysDeepNestingAndNonObjects) {
  EXPECT_FALSE(ParseJsonObject(R"({"a":1,"a":2})"));
  EXPECT_FALSE(ParseJsonObject(std::string(100, '[') + std::string(100, ']')));
  EXPECT_FALSE(ParseJsonObject("[1]"));
  EXPECT_FALSE(ParseJsonObject("{"));
  EXPECT_TRUE(ParseJsonObject(R"({"a":{"a":1}})"));
}

TEST(BodyReader, NamesUnknownAndMistypedFields) {
  auto j = ParseJsonObject(R"({"name":7,"colour":"red"})").value();
  BodyReader r(j);
  r.Require("tenant");
  EXPECT_FALSE(r.String("name"));
  auto p = r.Finish();
  ASSERT_TRUE(p);
  EXPECT_EQ(p->status, 400);
  std::vector<std::string> fields;
  for (const auto& e : p->errors) fields.push_back(e.field);
  EXPECT_EQ(fields, (std::vector<std::string>{"tenant", "name", "colour"}));
}

TEST(BodyReader, ReadsKnownFieldsInRange) {
  auto j = ParseJsonObject(R"({"n":5,"b":true,"l":["x"]})").value();
  BodyReader r(j);
  EXPECT_EQ(r.Int("n", 1, 10), 5);
  EXPECT_EQ(r.Bool("b"), true);
  EXPECT_EQ(r.Strings("l")->size(), 1u);
  EXPECT_FALSE(r.Finish());
  BodyReader r2(j);
  EXPECT_FALSE(r2.Int("n", 6, 10));
  r2.Known("b");
  r2.Known("l");
  EXPECT_TRUE(r2.Finish());
}

}  // namespace
}  // namespace provgate::api
