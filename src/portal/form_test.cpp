#include "portal/form.hpp"

#include <gtest/gtest.h>

namespace provgate::portal {
namespace {

TEST(ParseForm, DecodesPercentAndPlus) {
  auto f = ParseForm("user=ann&password=a+b%26c%3D&empty=&flag");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->at("user"), "ann");
  EXPECT_EQ(f->at("password"), "a b&c=");
  EXPECT_EQ(f->at("empty"), "");
  EXPECT_EQ(f->at("flag"), "");
}

TEST(ParseForm, RefusesRepeatedFieldsBadEscapesAndControlCharacters) {
  EXPECT_FALSE(ParseForm("csrf=a&csrf=b"));
  EXPECT_FALSE(ParseForm("a=%4"));
  EXPECT_FALSE(ParseForm("a=%zz"));
  EXPECT_FALSE(ParseForm("a=%00"));
  std::string many;
  for (size_t i = 0; i <= kMaxFormFields; ++i) many += "f" + std::to_string(i) + "=1&";
  EXPECT_FALSE(ParseForm(many));
}

TEST(FindCookie, FindsOneValueAcrossFieldLines) {
  EXPECT_EQ(FindCookie({"a=1; pg_session=abc; b=2"}, "pg_session"), "abc");
  EXPECT_EQ(FindCookie({"a=1", "pg_session=\"abc\""}, "pg_session"), "abc");
  EXPECT_FALSE(FindCookie({"pg_sessionx=1; xpg_session=2"}, "pg_session"));
}

TEST(FindCookie, RefusesACookieThatAppearsTwice) {
  EXPECT_FALSE(FindCookie({"pg_session=a; pg_session=b"}, "pg_session"));
  EXPECT_FALSE(FindCookie({"pg_session=a", "pg_session=b"}, "pg_session"));
}

}  // namespace
}  // namespace provgate::portal
