#include "net/forwarded.hpp"

#include <gtest/gtest.h>

namespace provgate::net {
namespace {

IpAddress Ip(std::string_view s) { return IpAddress::Parse(s).value(); }

TrustedProxies Proxies(ForwardedHeader header) {
  return TrustedProxies{IpSet::Parse({"10.0.0.0/24", "2001:db8:ffff::/48"}).value(), header};
}

TEST(ResolveClientAddress, IgnoresXffSpoofedByUntrustedPeer) {
  const auto r =
      ResolveClientAddress(Ip("203.0.113.5"), Proxies(ForwardedHeader::kXForwardedFor), "", "10.0.0.7, 198.51.100.1");
  EXPECT_EQ(r.address, Ip("203.0.113.5"));
  EXPECT_EQ(r.source, ClientAddressSource::kPeer);
  EXPECT_EQ(r.note, "forwarding header from untrusted peer ignored");
}

TEST(ResolveClientAddress, IgnoresHeadersWhenNoneConfigured) {
  const auto r = ResolveClientAddress(Ip("10.0.0.1"), Proxies(ForwardedHeader::kNone), "for=192.0.2.1", "192.0.2.1");
  EXPECT_EQ(r.address, Ip("10.0.0.1"));
  EXPECT_EQ(r.source, ClientAddressSource::kPeer);
}

TEST(ResolveClientAddress, TakesRightmostUntrustedHopOfXff) {
  // The client prepended a fake hop; the proxy appended the real address.
  const auto r = ResolveClientAddress(Ip("10.0.0.1"), Proxies(ForwardedHeader::kXForwardedFor), "",
                                      "192.0.2.66, 198.51.100.7, 10.0.0.2");
  EXPECT_EQ(r.address, Ip("198.51.100.7"));
  EXPECT_EQ(r.source, ClientAddressSource::kForwardingHeader);
  EXPECT_TRUE(r.note.empty());
}

TEST(ResolveClientAddress, HonoursOnlyTheConfiguredHeader) {
  // The proxy writes X-Forwarded-For; a Forwarded header came from the client.
  const auto r =
      ResolveClientAddress(Ip("10.0.0.1"), Proxies(ForwardedHeader::kXForwardedFor), "for=192.0.2.66", "198.51.100.7");
  EXPECT_EQ(r.address, Ip("198.51.100.7"));
}

TEST(ResolveClientAddress, ReadsForwardedElements) {
  const auto r = ResolveClientAddress(Ip("2001:db8:ffff::1"), Proxies(ForwardedHeader::kForwarded), "", "");
  EXPECT_EQ(r.address, Ip("2001:db8:ffff::1"));
  EXPECT_EQ(r.note, "trusted proxy sent no Forwarded header");

  const auto f = ResolveClientAddress(
      Ip("2001:db8:ffff::1"), Proxies(ForwardedHeader::kForwarded),
      R"(for=192.0.2.60;proto=http;by=203.0.113.43, For="[2001:db8:cafe::17]:4711", for=10.0.0.9)", "");
  EXPECT_EQ(f.address, Ip("2001:db8:cafe::17"));
  EXPECT_EQ(f.source, ClientAddressSource::kForwardingHeader);
}

TEST(ResolveClientAddress, UsesLeftmostWhenEveryHopIsTrusted) {
  const auto r =
      ResolveClientAddress(Ip("10.0.0.1"), Proxies(ForwardedHeader::kXForwardedFor), "", "10.0.0.3, 10.0.0.2");
  EXPECT_EQ(r.address, Ip("10.0.0.3"));
}

TEST(ResolveClientAddress, RefusesAHopNamingTheClientThatIsNotAnAddress) {
  const struct {
    ForwardedHeader header;
    const char* value;
  } cases[] = {
      {ForwardedHeader::kXForwardedFor, "198.51.100.7,,10.0.0.2"},
      {ForwardedHeader::kXForwardedFor, "evil.example"},
      {ForwardedHeader::kXForwardedFor, "198.51.100.7:99999"},
      {ForwardedHeader::kXForwardedFor, "01.2.3.4"},
      {ForwardedHeader::kForwarded, "for=unknown"},
      {ForwardedHeader::kForwarded, "for=_hidden"},
      {ForwardedHeader::kForwarded, "for=192.0.2.1;for=192.0.2.2"},
      {ForwardedHeader::kForwarded, "proto=https"},
      {ForwardedHeader::kForwarded, "for=[2001:db8::1]"},  // brackets need quotes
      {ForwardedHeader::kForwarded, "for=\"192.0.2.1"},
      {ForwardedHeader::kForwarded, "for=192.0.2.1 junk"},
  };
  for (const auto& c : cases) {
    const bool fwd = c.header == ForwardedHeader::kForwarded;
    const auto r = ResolveClientAddress(Ip("10.0.0.1"), Proxies(c.header), fwd ? c.value : "", fwd ? "" : c.value);
    EXPECT_EQ(r.source, ClientAddressSource::kMalformedHop) << c.value;
    EXPECT_NE(r.note.find("not an address"), std::string::npos) << c.value;
  }
}

// A client that writes junk before the line its proxy appends cannot make the whole header
// unreadable and be taken for the proxy: the walk stops at the first untrusted hop.
TEST(ResolveClientAddress, JunkLeftOfTheClientsHopIsNeverRead) {
  const auto x = ResolveClientAddress(Ip("10.0.0.1"), Proxies(ForwardedHeader::kXForwardedFor), "",
                                      "junk,,[x,198.51.100.7, 10.0.0.2");
  EXPECT_EQ(x.address, Ip("198.51.100.7"));
  EXPECT_EQ(x.source, ClientAddressSource::kForwardingHeader);
  const auto f = ResolveClientAddress(Ip("10.0.0.1"), Proxies(ForwardedHeader::kForwarded),
                                      R"(for="junk, for=unknown;x=",for=198.51.100.7)", "");
  EXPECT_EQ(f.address, Ip("198.51.100.7"));
  EXPECT_EQ(f.source, ClientAddressSource::kForwardingHeader);
}

// A client behind the proxy pads its own line past the bounds; the proxy appends the real
// address. X-Forwarded-For names the client still (only its right end is read); a Forwarded
// header over its bounds is unattributable (refused). Neither is ever the proxy's.
TEST(ResolveClientAddress, APaddedHeaderIsNeverTheProxys) {
  const std::string many_hops = std::string(kMaxForwardedHops + 6, ',') + "203.0.113.9";
  const std::string long_line = std::string(kMaxForwardedHeaderBytes, ' ') + ",203.0.113.9";
  for (const auto& joined : {many_hops, long_line}) {
    const auto x = ResolveClientAddress(Ip("10.0.0.1"), Proxies(ForwardedHeader::kXForwardedFor), "", joined);
    EXPECT_EQ(x.source, ClientAddressSource::kForwardingHeader) << x.note;
    EXPECT_EQ(x.address, Ip("203.0.113.9"));
    const auto f =
        ResolveClientAddress(Ip("10.0.0.1"), Proxies(ForwardedHeader::kForwarded), joined + ",for=203.0.113.9", "");
    EXPECT_EQ(f.source, ClientAddressSource::kMalformedHop) << f.note;
  }
}

// The walk reads at most kMaxForwardedHops hops: a longer chain of trusted proxies (none is
// real) names no client.
TEST(ResolveClientAddress, MoreTrustedHopsThanTheBoundNameNoClient) {
  std::string chain = "203.0.113.9";
  for (size_t i = 0; i < kMaxForwardedHops; ++i) chain += ",10.0.0.2";
  const auto x = ResolveClientAddress(Ip("10.0.0.1"), Proxies(ForwardedHeader::kXForwardedFor), "", chain);
  EXPECT_EQ(x.source, ClientAddressSource::kMalformedHop) << x.note;
  chain.erase(0, chain.find(',') + 1);  // exactly kMaxForwardedHops trusted hops: the leftmost
  const auto all = ResolveClientAddress(Ip("10.0.0.1"), Proxies(ForwardedHeader::kXForwardedFor), "", chain);
  EXPECT_EQ(all.source, ClientAddressSource::kForwardingHeader) << all.note;
  EXPECT_EQ(all.address, Ip("10.0.0.2"));
}

TEST(ParseXForwardedFor, AcceptsPortsBracketsAndBareIpv6) {
  auto hops = ParseXForwardedFor(" 192.0.2.1:8080 ,[2001:db8::1]:443,2001:db8::2,[2001:db8::3]");
  ASSERT_TRUE(hops);
  ASSERT_EQ(hops->size(), 4u);
  EXPECT_EQ((*hops)[0], Ip("192.0.2.1"));
  EXPECT_EQ((*hops)[1], Ip("2001:db8::1"));
  EXPECT_EQ((*hops)[2], Ip("2001:db8::2"));
  EXPECT_EQ((*hops)[3], Ip("2001:db8::3"));
}

TEST(ParseXForwardedFor, BoundsHopCountAndLength) {
  std::string many;
  for (size_t i = 0; i <= kMaxForwardedHops; ++i) many += (i ? "," : "") + std::string("1.1.1.1");
  EXPECT_FALSE(ParseXForwardedFor(many));
  EXPECT_FALSE(ParseXForwardedFor(std::string(kMaxForwardedHeaderBytes + 1, ' ')));
}

TEST(ParseForwarded, HandlesQuotedCommasAndEscapes) {
  auto hops = ParseForwarded(R"(for=192.0.2.1;host="a,b\"c", for="192.0.2.2:_port")");
  ASSERT_TRUE(hops);
  ASSERT_EQ(hops->size(), 2u);
  EXPECT_EQ((*hops)[1], Ip("192.0.2.2"));
}

}  // namespace
}  // namespace provgate::net
