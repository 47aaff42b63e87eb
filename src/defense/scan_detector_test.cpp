#include "defense/scan_detector.hpp"

#include <gtest/gtest.h>

#include <cstdio>

namespace provgate::defense {
namespace {

net::IpAddress Ip(std::string_view s) { return net::IpAddress::Parse(s).value(); }

std::string Mac(int i) {
  char buf[13];
  std::snprintf(buf, sizeof buf, "0015650%05x", i);
  return buf;
}

class ScanDetectorTest : public ::testing::Test {
 protected:
  std::unique_ptr<ScanDetector> Make(ScanDetectorOptions o = Defaults()) { return ScanDetector::Create(o).value(); }
  static ScanDetectorOptions Defaults() {
    ScanDetectorOptions o;
    o.window = Seconds(600);
    o.per_address = {5, 3};
    o.per_aggregate = {8, 100};
    return o;
  }
  ManualClock clock_{FromUnix(1'800'000'000)};
};

TEST_F(ScanDetectorTest, SignalsWhenDistinctMacsCrossThresholdInWindow) {
  auto d = Make();
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(d->Record(Ip("192.0.2.7"), ScanEvent::kUnknownMac, Mac(i), clock_.Now()).empty());
    clock_.Advance(Seconds(10));
  }
  const auto s = d->Record(Ip("192.0.2.7"), ScanEvent::kWrongMac, Mac(4), clock_.Now());
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].source.ToString(), "192.0.2.7/32");
  EXPECT_EQ(s[0].reason, "5 distinct unknown or wrong MACs in 600 s");
}

TEST_F(ScanDetectorTest, RepeatingOneMacDoesNotCount) {
  auto d = Make();
  for (int i = 0; i < 50; ++i) {
    EXPECT_TRUE(d->Record(Ip("192.0.2.7"), ScanEvent::kUnknownMac, Mac(1), clock_.Now()).empty());
  }
}

TEST_F(ScanDetectorTest, ForgetsEventsOlderThanWindow) {
  auto d = Make();
  for (int i = 0; i < 4; ++i) d->Record(Ip("192.0.2.7"), ScanEvent::kUnknownMac, Mac(i), clock_.Now());
  clock_.Advance(Seconds(600));
  // The four earlier MACs slid out of the window: this is the first of a new count.
  for (int i = 10; i < 14; ++i) {
    EXPECT_TRUE(d->Record(Ip("192.0.2.7"), ScanEvent::kUnknownMac, Mac(i), clock_.Now()).empty());
  }
  EXPECT_EQ(d->Record(Ip("192.0.2.7"), ScanEvent::kUnknownMac, Mac(14), clock_.Now()).size(), 1u);
}

TEST_F(ScanDetectorTest, CountsFailedAuthsSeparately) {
  auto d = Make();
  EXPECT_TRUE(d->Record(Ip("2001:db8::1"), ScanEvent::kFailedAuth, "", clock_.Now()).empty());
  EXPECT_TRUE(d->Record(Ip("2001:db8::1"), ScanEvent::kFailedAuth, "", clock_.Now()).empty());
  const auto s = d->Record(Ip("2001:db8::1"), ScanEvent::kFailedAuth, "", clock_.Now());
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].source.ToString(), "2001:db8::1/128");
  EXPECT_EQ(s[0].reason, "3 failed authentications in 600 s");
}

TEST_F(ScanDetectorTest, SignalsOncePerCrossing) {
  auto d = Make();
  int signals = 0;
  for (int i = 0; i < 10; ++i) {
    signals += static_cast<int>(d->Record(Ip("192.0.2.7"), ScanEvent::kUnknownMac, Mac(i), clock_.Now()).size());
  }
  // Five to cross, then counting starts over: two crossings by ten MACs, plus the /24 at 8.
  EXPECT_EQ(signals, 3);
}

TEST_F(ScanDetectorTest, AggregateCatchesScanSpreadOverAddresses) {
  auto d = Make();
  std::vector<ScanSignal> all;
  for (int i = 0; i < 8; ++i) {
    auto s = d->Record(Ip("203.0.113." + std::to_string(i)), ScanEvent::kUnknownMac, Mac(i), clock_.Now());
    all.insert(all.end(), s.begin(), s.end());
  }
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].source.ToString(), "203.0.113.0/24");
}

TEST_F(ScanDetectorTest, Ipv6AggregateIsSlash64) {
  auto d = Make();
  std::vector<ScanSignal> all;
  for (int i = 0; i < 8; ++i) {
    auto s = d->Record(Ip("2001:db8:1:2::" + std::to_string(i + 1)), ScanEvent::kUnknownMac, Mac(i), clock_.Now());
    all.insert(all.end(), s.begin(), s.end());
  }
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].source.ToString(), "2001:db8:1:2::/64");
}

TEST_F(ScanDetectorTest, AggregatesCanBeDisabled) {
  ScanDetectorOptions o = Defaults();
  o.v4_aggregate_prefix = 0;
  auto d = Make(o);
  for (int i = 0; i < 20; ++i) {
    EXPECT_TRUE(d->Record(Ip("203.0.113." + std::to_string(i)), ScanEvent::kUnknownMac, Mac(i), clock_.Now()).empty());
  }
}

TEST_F(ScanDetectorTest, MemoryIsBounded) {
  ScanDetectorOptions o = Defaults();
  o.max_sources = 16;
  auto d = Make(o);
  for (int i = 0; i < 1000; ++i) {
    d->Record(Ip("10." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ".1"), ScanEvent::kUnknownMac,
              Mac(i), clock_.Now());
  }
  EXPECT_LE(d->tracked_sources(), 16u);
}

TEST_F(ScanDetectorTest, RejectsBadOptions) {
  ScanDetectorOptions o = Defaults();
  o.window = Seconds(0);
  EXPECT_FALSE(ScanDetector::Create(o));
  o = Defaults();
  o.v6_aggregate_prefix = 129;
  EXPECT_FALSE(ScanDetector::Create(o));
  o = Defaults();
  o.per_address.failed_auths = -1;
  EXPECT_FALSE(ScanDetector::Create(o));
}

}  // namespace
}  // namespace provgate::defense
