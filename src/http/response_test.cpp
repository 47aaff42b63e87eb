#include "http/response.hpp"

#include <gtest/gtest.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <string>

#include "pipeline/pipeline.hpp"

namespace provgate::http {
namespace {

namespace bhttp = boost::beast::http;

struct StringSink {
  std::string bytes;
  void Queue(std::string_view b) { bytes.append(b); }
};

std::string Wire(const pipeline::DeviceResponse& pr, bool head, unsigned version, bool keep_alive) {
  StringSink sink;
  QueueResponse(sink, pr, head, version, keep_alive);
  return sink.bytes;
}

// Parsed as a client would: the whole wire image must be exactly one response.
bhttp::response<bhttp::string_body> Parse(const std::string& wire, bool head_request = false) {
  bhttp::response_parser<bhttp::string_body> parser;
  parser.eager(true);
  parser.skip(head_request);
  boost::system::error_code ec;
  const size_t used = parser.put(boost::asio::buffer(wire), ec);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_TRUE(parser.is_done());
  EXPECT_EQ(used, wire.size()) << "bytes after the response";
  return parser.release();
}

const pipeline::DeviceResponse kFile{200, "text/plain; charset=utf-8", "#!version:1.0.0.1\naccount.1.enable = 1\n"};

TEST(Response, CarriesTheHardeningHeadersAndTheBody) {
  const auto res = Parse(Wire(kFile, false, 11, true));
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.version(), 11u);
  EXPECT_EQ(res[bhttp::field::content_type], "text/plain; charset=utf-8");
  EXPECT_EQ(res[bhttp::field::cache_control], "no-store");
  EXPECT_EQ(res["X-Content-Type-Options"], "nosniff");
  EXPECT_EQ(res["Content-Security-Policy"], "default-src 'none'");
  EXPECT_EQ(res[bhttp::field::content_length], std::to_string(kFile.body.size()));
  EXPECT_EQ(res.body(), kFile.body);
  EXPECT_TRUE(res.keep_alive());
  EXPECT_EQ(res.count(bhttp::field::connection), 0u);
}

TEST(Response, SaysWhenTheConnectionCloses) {
  EXPECT_FALSE(Parse(Wire(kFile, false, 11, false)).keep_alive());
  EXPECT_EQ(Parse(Wire(kFile, false, 11, false))[bhttp::field::connection], "close");
  const auto kept_10 = Parse(Wire(kFile, false, 10, true));
  EXPECT_EQ(kept_10.version(), 10u);
  EXPECT_TRUE(kept_10.keep_alive());
  EXPECT_FALSE(Parse(Wire(kFile, false, 10, false)).keep_alive());
}

TEST(Response, HeadGetsTheLengthAndNoBody) {
  const std::string wire = Wire(kFile, true, 11, true);
  EXPECT_TRUE(wire.ends_with("\r\n\r\n"));
  const auto res = Parse(wire, true);
  EXPECT_EQ(res[bhttp::field::content_length], std::to_string(kFile.body.size()));
}

TEST(Response, RefusalFieldsInOrder) {
  pipeline::DeviceResponse challenge{401, "text/plain; charset=utf-8", "401 Unauthorized\n"};
  challenge.www_authenticate = {"Digest realm=\"p\", algorithm=SHA-256", "Digest realm=\"p\", algorithm=MD5"};
  const auto res = Parse(Wire(challenge, false, 11, true));
  std::vector<std::string> seen;
  for (const auto& f : res) {
    if (f.name() == bhttp::field::www_authenticate) seen.emplace_back(f.value());
  }
  EXPECT_EQ(seen, challenge.www_authenticate);

  pipeline::DeviceResponse method{405, "text/plain; charset=utf-8", "405 Method Not Allowed\n", true};
  EXPECT_EQ(Parse(Wire(method, false, 11, true))[bhttp::field::allow], "GET, HEAD, PUT");
  pipeline::DeviceResponse busy{503, "text/plain; charset=utf-8", "503 Service Unavailable\n"};
  busy.retry_after = 7;
  EXPECT_EQ(Parse(Wire(busy, false, 11, true))[bhttp::field::retry_after], "7");
}

// RFC 9110 8.6: no Content-Length (and no body) in a 204.
TEST(Response, NoContentHasNoLength) {
  const pipeline::DeviceResponse stored{204, "text/plain; charset=utf-8", ""};
  const std::string wire = Wire(stored, false, 11, true);
  EXPECT_EQ(wire.find("Content-Length"), std::string::npos);
  EXPECT_EQ(Parse(wire).result_int(), 204);
}

// Invariant 2 on the wire: the uniform refusal is the same bytes every time.
TEST(Response, TheUniformRefusalIsByteIdentical) {
  EXPECT_EQ(Wire(pipeline::UniformNotFound(), false, 11, true), Wire(pipeline::UniformNotFound(), false, 11, true));
  EXPECT_EQ(Parse(Wire(pipeline::UniformNotFound(), false, 11, true)).body(), "404 Not Found\n");
}

}  // namespace
}  // namespace provgate::http
