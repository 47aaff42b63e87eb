#include "http/request_buffer.hpp"

#include <gtest/gtest.h>

#include <string>

namespace provgate::http {
namespace {

constexpr size_t kMaxUnparsed = 8 * 1024;

// Feeds `wire` one byte per read, as a client writing byte by byte can make it arrive.
boost::system::error_code FeedByteByByte(RequestParser& parser, std::string_view wire) {
  std::string in;
  for (const char c : wire) {
    in.push_back(c);
    if (auto ec = ParseBuffered(parser, in, kMaxUnparsed)) return ec;
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
  ASSERT_FALSE(FeedByteByByte(parser,
                              "PUT /a.log HTTP/1.1\r\nHost: p\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "5\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n"));
  ASSERT_TRUE(parser.is_done());
  EXPECT_EQ(parser.get().body(), "hello");
}

TEST(RequestBuffer, ABadTrailerAfterTheFinalChunkIsAnError) {
  RequestParser parser;
  const auto ec =
      FeedByteByByte(parser, "PUT /a.log HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nbad\x01name: x\r\n\r\n");
  EXPECT_TRUE(ec);
  EXPECT_FALSE(parser.is_done());
}

TEST(RequestBuffer, ConsumesOneRequestAndLeavesTheNext) {
  std::string in = "GET /a.cfg HTTP/1.1\r\nHost: p\r\n\r\nGET /b";
  RequestParser parser;
  ASSERT_FALSE(ParseBuffered(parser, in, kMaxUnparsed));
  ASSERT_TRUE(parser.is_done());
  EXPECT_EQ(parser.get().target(), "/a.cfg");
  EXPECT_EQ(in, "GET /b");
}

TEST(RequestBuffer, AChunkedBodyOfTinyChunksParses) {
  std::string in = "PUT /a.log HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 5000; ++i) in += "1\r\na\r\n";
  in += "0\r\n\r\n";
  RequestParser parser;
  parser.body_limit(64 * 1024);
  ASSERT_FALSE(ParseBuffered(parser, in, kMaxUnparsed));
  ASSERT_TRUE(parser.is_done());
  EXPECT_EQ(parser.get().body(), std::string(5000, 'a'));
  EXPECT_TRUE(in.empty());
}

// Beast keeps a chunk-size line or a trailer section unconsumed until it ends, with no limit
// of its own: without one of ours a client could grow the buffer until the deadline.
TEST(RequestBuffer, BytesTheParserKeepsWithoutConsumingAreBounded) {
  const std::string head = "PUT /a.log HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (const std::string& stall : {"1;" + std::string(100, 'x'), "0\r\nX-Trailer: " + std::string(100, 'y')}) {
    RequestParser parser;
    std::string in = head + stall;
    ASSERT_FALSE(ParseBuffered(parser, in, kMaxUnparsed)) << "well under the limit: wait for more";
    boost::system::error_code ec;
    for (int i = 0; i < 100 && !ec; ++i) {
      in += std::string(1000, 'z');
      ec = ParseBuffered(parser, in, kMaxUnparsed);
    }
    EXPECT_EQ(ec, boost::beast::http::error::buffer_overflow) << stall.substr(0, 12);
    EXPECT_LE(in.size(), kMaxUnparsed + 1000);
  }
}

}  // namespace
}  // namespace provgate::http
