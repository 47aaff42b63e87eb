#include "portal/multipart.hpp"

#include <gtest/gtest.h>

namespace provgate::portal {
namespace {

constexpr std::string_view kBody =
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"csrf\"\r\n"
    "\r\n"
    "abc\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"file\"; filename=\"devices.csv\"\r\n"
    "Content-Type: text/csv\r\n"
    "\r\n"
    "mac,vendor\r\n001565000001,yealink\r\n\r\n"
    "--XyZ--\r\n";

TEST(MultipartBoundary, ReadsPlainAndQuotedBoundaries) {
  EXPECT_EQ(*MultipartBoundary("multipart/form-data; boundary=----WebKitFormBoundary7MA4"),
            "----WebKitFormBoundary7MA4");
  EXPECT_EQ(*MultipartBoundary("Multipart/Form-Data;boundary=\"a b\""), "a b");
}

TEST(MultipartBoundary, RefusesOtherTypesAndBadBoundaries) {
  for (std::string_view ct : {"application/x-www-form-urlencoded", "multipart/form-data",
                              "multipart/form-data; boundary=", "multipart/mixed; boundary=x",
                              "multipart/form-data; boundary=\"x", "multipart/form-data; boundary=x; boundary=y"}) {
    EXPECT_FALSE(MultipartBoundary(ct)) << ct;
  }
  EXPECT_FALSE(MultipartBoundary("multipart/form-data; boundary=" + std::string(71, 'a')));
}

TEST(ParseMultipart, SplitsFieldsAndFilesKeepingTheBytes) {
  auto parts = ParseMultipart("XyZ", kBody);
  ASSERT_TRUE(parts) << parts.error().message;
  ASSERT_EQ(parts->size(), 2U);
  EXPECT_EQ((*parts)[0].name, "csrf");
  EXPECT_EQ((*parts)[0].filename, "");
  EXPECT_EQ((*parts)[0].body, "abc");
  EXPECT_EQ((*parts)[1].name, "file");
  EXPECT_EQ((*parts)[1].filename, "devices.csv");
  EXPECT_EQ((*parts)[1].body, "mac,vendor\r\n001565000001,yealink\r\n");
}

TEST(ParseMultipart, IgnoresPreambleAndEpilogueAndReadsEmptyParts) {
  const std::string body = "preamble\r\n--b\r\nContent-Disposition: form-data; name=a\r\n\r\n\r\n--b--epilogue";
  auto parts = ParseMultipart("b", body);
  ASSERT_TRUE(parts) << parts.error().message;
  ASSERT_EQ(parts->size(), 1U);
  EXPECT_EQ((*parts)[0].name, "a");
  EXPECT_EQ((*parts)[0].body, "");
}

TEST(ParseMultipart, RefusesMalformedBodies) {
  const std::string cd = "Content-Disposition: form-data; name=\"a\"\r\n\r\n";
  for (const std::string& body : {
           std::string(""),
           std::string("--b\r\n") + cd + "unterminated",
           std::string("--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--"),
           std::string("--b\r\nContent-Disposition: attachment; name=a\r\n\r\nx\r\n--b--"),
           std::string("--b\r\nContent-Disposition: form-data; name=\"\"\r\n\r\nx\r\n--b--"),
           std::string("--b\r\nContent-Disposition: form-data; name=\"a\r\n\r\nx\r\n--b--"),
           std::string("--b\r\n") + cd + "x\r\n--b\r\n" + cd + "y\r\n--b--",
           std::string("--b\r\n\r\nx\r\n--b--"),
           std::string("--bXX\r\n") + cd + "x\r\n--b--",
           std::string("--b\r\nContent-Disposition: form-data; name=a\r\n") + std::string(2000, 'h') +
               "\r\n\r\nx\r\n--b--",
       }) {
    EXPECT_FALSE(ParseMultipart("b", body)) << body;
  }
}

TEST(ParseMultipart, BoundsTheNumberOfParts) {
  std::string body;
  for (size_t i = 0; i <= kMaxMultipartParts; ++i) {
    body += "--b\r\nContent-Disposition: form-data; name=f" + std::to_string(i) + "\r\n\r\nx\r\n";
  }
  body += "--b--";
  EXPECT_FALSE(ParseMultipart("b", body));
}

}  // namespace
}  // namespace provgate::portal
