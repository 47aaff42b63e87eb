#include "net/ip_address.hpp"

#include <gtest/gtest.h>

namespace provgate::net {
namespace {

IpAddress Ip(std::string_view s) { return IpAddress::Parse(s).value(); }
Cidr Net(std::string_view s) { return Cidr::Parse(s).value(); }

TEST(IpAddress, ParsesAndPrintsCanonicalForm) {
  const struct {
    const char* in;
    const char* canonical;
  } cases[] = {
      {"192.0.2.1", "192.0.2.1"},
      {"0.0.0.0", "0.0.0.0"},
      {"255.255.255.255", "255.255.255.255"},
      {"2001:DB8::1", "2001:db8::1"},
      {"2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"},
      {"::", "::"},
      {"::1", "::1"},
      {"1::", "1::"},
      {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},     // first of equal runs
      {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},  // a single zero group stays
      {"::ffff:192.0.2.1", "192.0.2.1"},                 // IPv4-mapped is IPv4
      {"::FFFF:c000:0201", "192.0.2.1"},
      {"64:ff9b::192.0.2.33", "64:ff9b::c000:221"},
  };
  for (const auto& c : cases) {
    auto ip = IpAddress::Parse(c.in);
    ASSERT_TRUE(ip) << c.in;
    EXPECT_EQ(ip->ToString(), c.canonical) << c.in;
    EXPECT_EQ(Ip(ip->ToString()), *ip) << c.in;
  }
}

TEST(IpAddress, RejectsAmbiguousOrMalformedText) {
  for (const char* bad : {"",
                          "1.2.3",
                          "1.2.3.4.5",
                          "01.2.3.4",
                          "1.2.3.04",
                          "256.1.1.1",
                          "1.2.3.4 ",
                          " 1.2.3.4",
                          "1..2.3",
                          "1.2.3.-4",
                          "0x1.2.3.4",
                          "1:2:3:4:5:6:7",
                          "1:2:3:4:5:6:7:8:9",
                          "1::2::3",
                          ":::",
                          ":1::",
                          "1::2:",
                          "12345::",
                          "g::1",
                          "fe80::1%eth0",
                          "[::1]",
                          "::1.2.3",
                          "1.2.3.4::",
                          "1:2:3:4:5:6:7::8",
                          "::ffff:01.2.3.4",
                          "1:2:3:4:5:6:7:1.2.3.4",
                          "0000000000000000000000000000000000000000000001"}) {
    EXPECT_FALSE(IpAddress::Parse(bad)) << bad;
  }
}

TEST(IpAddress, MappedAndPlainIpv4CompareEqual) {
  EXPECT_EQ(Ip("::ffff:10.0.0.1"), Ip("10.0.0.1"));
  EXPECT_TRUE(Ip("::ffff:10.0.0.1").is_v4());
  EXPECT_FALSE(Ip("::10.0.0.1").is_v4());  // IPv4-compatible (deprecated) is not mapped
}

TEST(Cidr, ParsesNetworksAndHosts) {
  EXPECT_EQ(Net("192.0.2.0/24").ToString(), "192.0.2.0/24");
  EXPECT_EQ(Net("2001:db8::/32").ToString(), "2001:db8::/32");
  EXPECT_EQ(Net("192.0.2.7").ToString(), "192.0.2.7/32");
  EXPECT_EQ(Net("2001:db8::7").ToString(), "2001:db8::7/128");
  EXPECT_EQ(Net("0.0.0.0/0").ToString(), "0.0.0.0/0");
  EXPECT_EQ(Net("::ffff:192.0.2.0/120").ToString(), "192.0.2.0/24");
}

TEST(Cidr, RejectsBadPrefixesAndHostBits) {
  for (const char* bad :
       {"1.2.3.4/33", "1.2.3.0/024", "1.2.3.0/", "1.2.3.0/-1", "1.2.3.0/24/1", "1.2.3.1/24", "2001:db8::/129",
        "2001:db8::1/64", "/24", "1.2.3.0/ 24", "::ffff:1.2.3.0/64", "1.2.3.0/2a"}) {
    EXPECT_FALSE(Cidr::Parse(bad)) << bad;
  }
}

TEST(Cidr, ContainsOnlyItsOwnFamilyAndPrefix) {
  const Cidr v4 = Net("192.0.2.0/25");
  EXPECT_TRUE(v4.Contains(Ip("192.0.2.0")));
  EXPECT_TRUE(v4.Contains(Ip("192.0.2.127")));
  EXPECT_FALSE(v4.Contains(Ip("192.0.2.128")));
  EXPECT_FALSE(v4.Contains(Ip("::ffff:c000:280")));
  EXPECT_TRUE(v4.Contains(Ip("::ffff:192.0.2.5")));
  EXPECT_FALSE(v4.Contains(Ip("2001:db8::1")));
  const Cidr v6 = Net("2001:db8::/32");
  EXPECT_TRUE(v6.Contains(Ip("2001:db8:ffff::1")));
  EXPECT_FALSE(v6.Contains(Ip("2001:db9::1")));
  EXPECT_FALSE(v6.Contains(Ip("192.0.2.1")));
  EXPECT_TRUE(Net("0.0.0.0/0").Contains(Ip("203.0.113.9")));
  EXPECT_FALSE(Net("0.0.0.0/0").Contains(Ip("::1")));
}

TEST(Cidr, OfMasksToTheAggregateUsedForBans) {
  EXPECT_EQ(Cidr::Of(Ip("198.51.100.77"), 24)->ToString(), "198.51.100.0/24");
  EXPECT_EQ(Cidr::Of(Ip("2001:db8:1:2:3:4:5:6"), 64)->ToString(), "2001:db8:1:2::/64");
  EXPECT_EQ(Cidr::Of(Ip("198.51.100.77"), 32)->ToString(), "198.51.100.77/32");
  EXPECT_EQ(Cidr::Of(Ip("198.51.100.77"), 0)->ToString(), "0.0.0.0/0");
  EXPECT_EQ(Cidr::Of(Ip("198.51.100.77"), 21)->ToString(), "198.51.96.0/21");
  EXPECT_FALSE(Cidr::Of(Ip("198.51.100.77"), 33));
  EXPECT_FALSE(Cidr::Of(Ip("::1"), -1));
  EXPECT_FALSE(Cidr::Of(Ip("::1"), 129));
}

TEST(Cidr, OverlapsWhenOneContainsTheOther) {
  EXPECT_TRUE(Net("10.0.0.0/8").Overlaps(Net("10.1.2.0/24")));
  EXPECT_TRUE(Net("10.1.2.0/24").Overlaps(Net("10.0.0.0/8")));
  EXPECT_FALSE(Net("10.0.0.0/8").Overlaps(Net("11.0.0.0/8")));
  EXPECT_FALSE(Net("10.0.0.0/8").Overlaps(Net("::/0")));
}

TEST(IpSet, ContainsAnyEntryAndNamesTheBadOne) {
  auto set = IpSet::Parse({"10.0.0.0/8", "2001:db8::/32", "192.0.2.9"});
  ASSERT_TRUE(set);
  EXPECT_TRUE(set->Contains(Ip("10.9.9.9")));
  EXPECT_TRUE(set->Contains(Ip("2001:db8::5")));
  EXPECT_TRUE(set->Contains(Ip("192.0.2.9")));
  EXPECT_FALSE(set->Contains(Ip("192.0.2.10")));
  EXPECT_TRUE(set->Overlaps(Net("192.0.2.0/24")));
  EXPECT_FALSE(IpSet().Contains(Ip("10.0.0.1")));
  auto bad = IpSet::Parse({"10.0.0.0/8", "10.0.0.1/8"});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("10.0.0.1/8"), std::string::npos);
}

TEST(IpAddress, EndpointTextBracketsIPv6AndUnmapsIPv4) {
  EXPECT_EQ(IpAddress::Parse("192.0.2.1")->ToEndpointString(5060), "192.0.2.1:5060");
  EXPECT_EQ(IpAddress::Parse("::ffff:192.0.2.1")->ToEndpointString(443), "192.0.2.1:443");
  EXPECT_EQ(IpAddress::Parse("2001:db8::1")->ToEndpointString(0), "[2001:db8::1]:0");
}

}  // namespace
}  // namespace provgate::net
