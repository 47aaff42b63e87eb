#include "net/proxy_protocol.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace provgate::net {
namespace {

std::vector<std::uint8_t> Bytes(std::string_view s) { return {s.begin(), s.end()}; }

std::vector<std::uint8_t> V2(std::uint8_t ver_cmd, std::uint8_t fam, const std::vector<std::uint8_t>& body) {
  const std::uint8_t header[] = {0x0d,
                                 0x0a,
                                 0x0d,
                                 0x0a,
                                 0x00,
                                 0x0d,
                                 0x0a,
                                 0x51,
                                 0x55,
                                 0x49,
                                 0x54,
                                 0x0a,
                                 ver_cmd,
                                 fam,
                                 static_cast<std::uint8_t>(body.size() >> 8),
                                 static_cast<std::uint8_t>(body.size() & 0xff)};
  // Sized once and filled by index: GCC 12 -O2 misreads vector::insert here (-Warray-bounds).
  std::vector<std::uint8_t> out(sizeof(header) + body.size());
  for (size_t i = 0; i < sizeof(header); ++i) out[i] = header[i];
  for (size_t i = 0; i < body.size(); ++i) out[sizeof(header) + i] = body[i];
  return out;
}

TEST(ProxyProtocol, ParsesV1Tcp4AndReportsConsumedBytes) {
  const auto data = Bytes("PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\nGET / HTTP/1.1\r\n");
  auto r = ParseProxyHeader(data);
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->has_value());
  const auto& h = **r;
  EXPECT_EQ(h.version, 1);
  EXPECT_TRUE(h.has_source);
  EXPECT_EQ(h.source.ToString(), "192.0.2.1");
  EXPECT_EQ(h.source_port, 56324);
  EXPECT_EQ(h.destination.ToString(), "198.51.100.2");
  EXPECT_EQ(h.destination_port, 443);
  EXPECT_EQ(h.consumed, std::string("PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n").size());
}

TEST(ProxyProtocol, ParsesV1Tcp6AndUnknown) {
  auto r = ParseProxyHeader(Bytes("PROXY TCP6 2001:db8::1 2001:db8::2 1 65535\r\n"));
  ASSERT_TRUE(r && r->has_value());
  EXPECT_EQ((*r)->source.ToString(), "2001:db8::1");
  auto u = ParseProxyHeader(Bytes("PROXY UNKNOWN ffff:f...f ffff:f...f 65535 65535\r\n"));
  ASSERT_TRUE(u && u->has_value());
  EXPECT_FALSE((*u)->has_source);
}

TEST(ProxyProtocol, AsksForMoreOnAValidPrefix) {
  for (std::string_view prefix : {"P", "PROXY", "PROXY TCP4 192.0.2.1", "\r\n\r\n\0\r\nQ"}) {
    auto r = ParseProxyHeader(Bytes(prefix));
    ASSERT_TRUE(r) << prefix;
    EXPECT_FALSE(r->has_value()) << prefix;
  }
  auto partial = V2(0x21, 0x11, std::vector<std::uint8_t>(12, 1));
  partial.pop_back();
  auto r = ParseProxyHeader(partial);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->has_value());
}

TEST(ProxyProtocol, RejectsMalformedV1) {
  for (std::string_view bad :
       {"GET / HTTP/1.1\r\n", "PROXY TCP4 192.0.2.1 198.51.100.2 1 2\n", "PROXY TCP4 192.0.2.1  198.51.100.2 1 2\r\n",
        "PROXY TCP4 2001:db8::1 192.0.2.1 1 2\r\n", "PROXY TCP6 192.0.2.1 198.51.100.2 1 2\r\n",
        "PROXY TCP4 192.0.2.1 198.51.100.2 1 65536\r\n", "PROXY TCP4 192.0.2.1 198.51.100.2 01 2\r\n",
        "PROXY TCP4 192.0.2.1 198.51.100.2 1\r\n", "PROXY TCP4 192.0.2.1 198.51.100.2 1 2 3\r\n",
        "PROXY UDP4 192.0.2.1 198.51.100.2 1 2\r\n", "PROXY TCP4 192.0.2.1 198.51.100.2 1 2\x01\r\n"}) {
    EXPECT_FALSE(ParseProxyHeader(Bytes(bad))) << bad;
  }
  EXPECT_FALSE(ParseProxyHeader(Bytes("PROXY " + std::string(kMaxProxyV1Bytes, 'A'))));
}

TEST(ProxyProtocol, ParsesV2Inet) {
  const auto data = V2(0x21, 0x11,
                       {192, 0, 2, 1, 198, 51, 100, 2, 0xdc, 0x04, 0x01, 0xbb,
                        /*TLV*/ 0x04, 0x00, 0x01, 0x00});
  auto r = ParseProxyHeader(data);
  ASSERT_TRUE(r && r->has_value());
  EXPECT_EQ((*r)->version, 2);
  EXPECT_EQ((*r)->source.ToString(), "192.0.2.1");
  EXPECT_EQ((*r)->source_port, 56324);
  EXPECT_EQ((*r)->destination_port, 443);
  EXPECT_EQ((*r)->consumed, data.size());
}

TEST(ProxyProtocol, ParsesV2Inet6AndLocal) {
  std::vector<std::uint8_t> body(36, 0);
  body[0] = 0x20;
  body[1] = 0x01;
  body[2] = 0x0d;
  body[3] = 0xb8;
  body[15] = 1;
  auto r = ParseProxyHeader(V2(0x21, 0x21, body));
  ASSERT_TRUE(r && r->has_value());
  EXPECT_EQ((*r)->source.ToString(), "2001:db8::1");
  auto local = ParseProxyHeader(V2(0x20, 0x00, {}));
  ASSERT_TRUE(local && local->has_value());
  EXPECT_FALSE((*local)->has_source);
}

TEST(ProxyProtocol, RejectsMalformedV2) {
  EXPECT_FALSE(ParseProxyHeader(V2(0x11, 0x11, std::vector<std::uint8_t>(12))));  // version 1
  EXPECT_FALSE(ParseProxyHeader(V2(0x22, 0x11, std::vector<std::uint8_t>(12))));  // command 2
  EXPECT_FALSE(ParseProxyHeader(V2(0x21, 0x12, std::vector<std::uint8_t>(12))));  // UDP
  EXPECT_FALSE(ParseProxyHeader(V2(0x21, 0x11, std::vector<std::uint8_t>(11))));  // short
  EXPECT_FALSE(ParseProxyHeader(V2(0x21, 0x21, std::vector<std::uint8_t>(12))));  // short v6
  std::vector<std::uint8_t> bad_tlv(16, 0);
  bad_tlv[12] = 0x04;  // a TLV whose length (5) runs past the block
  bad_tlv[14] = 0x05;
  EXPECT_FALSE(ParseProxyHeader(V2(0x21, 0x11, bad_tlv)));
  EXPECT_FALSE(ParseProxyHeader(V2(0x21, 0x11, std::vector<std::uint8_t>(kMaxProxyV2Bytes))));
}

}  // namespace
}  // namespace provgate::net
