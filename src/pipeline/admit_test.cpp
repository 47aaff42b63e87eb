#include "pipeline/admit.hpp"

#include <string>

#include <gtest/gtest.h>

#include "pipeline/file_name.hpp"

namespace provgate::pipeline {
namespace {

TEST(ExtractFileName, AcceptsOnlyOneSafeSegmentUnderThePrefix) {
  EXPECT_EQ(ExtractFileName("/001565aabbcc.cfg", "/"), "001565aabbcc.cfg");
  EXPECT_EQ(ExtractFileName("/001565aabbcc.cfg?mac=x", "/"), "001565aabbcc.cfg");
  EXPECT_EQ(ExtractFileName("/cfg/y000000000096.cfg", "/cfg/"), "y000000000096.cfg");
  for (const char* bad : {"/", "", "x", "/..", "/.", "/a/b.cfg", "/%2e%2e/a.cfg", "/a.cfg%00", "/a\\b.cfg",
                          "/cfg/a.cfg", "/a b.cfg", "//a.cfg"}) {
    EXPECT_FALSE(ExtractFileName(bad, "/")) << bad;
  }
  EXPECT_FALSE(ExtractFileName("/" + std::string(129, 'a'), "/"));
  EXPECT_FALSE(ExtractFileName("/y000000000096.cfg", "/cfg/"));
}

DeviceRequest Line(std::string method, std::string target) {
  DeviceRequest r;
  r.method = std::move(method);
  r.target = std::move(target);
  return r;
}

TEST(Admit, TakesGetHeadAndPutOfOneFileName) {
  for (const auto& [text, method] : {std::pair{"GET", Method::kGet}, {"HEAD", Method::kHead}, {"PUT", Method::kPut}}) {
    const auto request = Line(text, "/cfg/y000000000096.cfg");
    const auto admitted = Admit(request, "/cfg/");
    ASSERT_TRUE(std::holds_alternative<Admitted>(admitted)) << text;
    EXPECT_EQ(std::get<Admitted>(admitted).method, method);
    EXPECT_EQ(std::get<Admitted>(admitted).file_name(), "y000000000096.cfg");
    EXPECT_FALSE(std::get<Admitted>(admitted).token);
  }
}

TEST(Admit, RefusesOtherMethodsWith405) {
  for (const char* method : {"POST", "DELETE", "get", "OPTIONS", ""}) {
    const auto request = Line(method, "/001565aabbcc.cfg");
    const auto admitted = Admit(request, "/");
    ASSERT_TRUE(std::holds_alternative<Refused>(admitted)) << method;
    EXPECT_EQ(std::get<Refused>(admitted).why, Refusal::kMethodNotAllowed);
    EXPECT_EQ(std::get<Refused>(admitted).answer, Answer::kMethodNotAllowed);
  }
}

TEST(Admit, ATokenPathNamesItsFileAfterTheToken) {
  const auto request = Line("GET", "/p/abcdefghijklmnopqrstuvwxyz234567/001565aabbcc.cfg");
  const auto admitted = Admit(request, "/");
  ASSERT_TRUE(std::holds_alternative<Admitted>(admitted));
  const auto& a = std::get<Admitted>(admitted);
  ASSERT_TRUE(a.token);
  EXPECT_EQ(a.token->token, "abcdefghijklmnopqrstuvwxyz234567");
  EXPECT_EQ(a.file_name(), "001565aabbcc.cfg");
  // The name stays valid when the admitted request is moved.
  const Admitted moved = a;
  EXPECT_EQ(moved.file_name(), "001565aabbcc.cfg");
}

TEST(Admit, RefusesABadPathAsAUniform404) {
  for (const char* target :
       {"/p/short/001565aabbcc.cfg", "/p/abcdefghijklmnopqrstuvwxyz234567/../x", "/a/b.cfg", "/..", "/"}) {
    const auto request = Line("GET", target);
    const auto admitted = Admit(request, "/");
    ASSERT_TRUE(std::holds_alternative<Refused>(admitted)) << target;
    EXPECT_EQ(std::get<Refused>(admitted).why, Refusal::kBadPath) << target;
    EXPECT_EQ(std::get<Refused>(admitted).answer, Answer::kNotFound);
  }
}

}  // namespace
}  // namespace provgate::pipeline
