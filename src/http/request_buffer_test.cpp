#include "http/request_buffer.hpp"

#include <gtest/gtest.h>

#include <string>

namespace provgate::http {
namespace {

// Feeds `wire` one byte per read, as a client writing byte by byte can make it arrive.
boost::system::error_code FeedByteByByte(RequestParser& parser, std::string_view wire) {
  std::string in;
  for (const char c : wire) {
    in.push_back(c);
    if (auto ec = ParseBuffered(parser, in)) return ec;
    if (parser.is_done()) break;
  }
  return {};
}

TEST(RequestBuffer, AChunkedBodyArrivingByteByByteParses) {
  // Regression (fuzz/corpus/http_request/regress_final_chunk_one_byte_at_a_time): Beast
  // asserted, aborting a debug server, when a final chunk "0\r\n" at the start of the
  // buffer was followed by one byte.
  RequestParser bare_end;
  ASSERT_FALSE(FeedByteByByte(bare_end, "PUT /a.log HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"));
  EXPECT_TRUE(bare_end.is_done());

  RequestParser parser;
  ASSERT_FALSE(FeedByteByByte(parser, "PUT /a.log HTTP/1.1\r\nHost: p\r\nTransfer-Encoding: chunked\r\n\r\n"
                                      "5\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n"));
  ASSERT_TRUE(parser.is_done());
  EXPECT_EQ(parser.get().body(), "hello");
}

TEST(RequestBuffer, ABadTrailerAfterTheFinalChunkIsAnError) {
  RequestParser parser;
  const auto ec = FeedByteByByte(parser, "PUT /a.log HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nbad\x01name: x\r\n\r\n");
  EXPECT_TRUE(ec);
  EXPECT_FALSE(parser.is_done());
}

TEST(RequestBuffer, ConsumesOneRequestAndLeavesTheNext) {
  std::string in = "GET /a.cfg HTTP/1.1\r\nHost: p\r\n\r\nGET /b";
  RequestParser parser;
  ASSERT_FALSE(ParseBuffered(parser, in));
  ASSERT_TRUE(parser.is_done());
  EXPECT_EQ(parser.get().target(), "/a.cfg");
  EXPECT_EQ(in, "GET /b");
}

}  // namespace
}  // namespace provgate::http
