#include "bench/http_response.hpp"

#include <gtest/gtest.h>

namespace provgate::bench {
namespace {

using State = ResponseParser::State;

TEST(ResponseParser, ReadsContentLengthBody) {
  ResponseParser p;
  EXPECT_EQ(p.Feed("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"), State::kComplete);
  EXPECT_EQ(p.status(), 200);
  EXPECT_EQ(p.body(), "hello");
  EXPECT_TRUE(p.keep_alive());
}

TEST(ResponseParser, AcceptsAnySplit) {
  const std::string r = "HTTP/1.1 404 Not Found\r\ncontent-length: 3\r\nConnection: close\r\n\r\nno\n";
  for (std::size_t cut = 1; cut < r.size(); ++cut) {
    ResponseParser p;
    EXPECT_NE(p.Feed(r.substr(0, cut)), State::kError) << cut;
    EXPECT_EQ(p.Feed(r.substr(cut)), State::kComplete) << cut;
    EXPECT_EQ(p.status(), 404);
    EXPECT_EQ(p.body(), "no\n");
    EXPECT_FALSE(p.keep_alive());
  }
}

TEST(ResponseParser, BodyFramedByClose) {
  ResponseParser p;
  EXPECT_EQ(p.Feed("HTTP/1.0 200 OK\r\n\r\nabc"), State::kBody);
  EXPECT_EQ(p.FeedEof(), State::kComplete);
  EXPECT_EQ(p.body(), "abc");
  EXPECT_FALSE(p.keep_alive());
}

TEST(ResponseParser, EarlyCloseIsAnError) {
  ResponseParser p;
  p.Feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
  EXPECT_EQ(p.FeedEof(), State::kError);
  ResponseParser q;
  EXPECT_EQ(q.FeedEof(), State::kError);
}

TEST(ResponseParser, RefusesWhatItCannotFrame) {
  for (const char* bad : {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "HTTP/1.1 2x0 OK\r\n\r\n",
                          "SIP/2.0 200 OK\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
                          "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                          "HTTP/1.1 200 OK\r\nno colon\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nab"}) {
    ResponseParser p;
    EXPECT_EQ(p.Feed(bad), State::kError) << bad;
    EXPECT_FALSE(p.error().empty());
  }
}

TEST(ResponseParser, LimitsHeaderAndBody) {
  ResponseParser p;
  EXPECT_EQ(p.Feed("HTTP/1.1 200 OK\r\nX: " + std::string(ResponseParser::kMaxHeaderBytes, 'a')), State::kError);
  ResponseParser q;
  EXPECT_EQ(q.Feed("HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n"), State::kError);
}

TEST(ResponseParser, NoBodyStatuses) {
  ResponseParser p;
  EXPECT_EQ(p.Feed("HTTP/1.1 304 Not Modified\r\n\r\n"), State::kComplete);
  p.Reset();
  EXPECT_EQ(p.Feed("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), State::kComplete);
  EXPECT_EQ(p.body(), "");
}

}  // namespace
}  // namespace provgate::bench
