#include "defense/bans.hpp"

#include <gtest/gtest.h>

namespace provgate::defense {
namespace {

net::IpAddress Ip(std::string_view s) { return net::IpAddress::Parse(s).value(); }
net::Cidr Net(std::string_view s) { return net::Cidr::Parse(s).value(); }

BanPolicy Policy() {
  BanPolicyOptions o;
  o.base = Seconds(600);
  o.factor = 2;
  o.max = Seconds(3000);
  o.repeat_memory = Seconds(86400);
  o.allowlist = net::IpSet::Parse({"198.51.100.0/28", "2001:db8:ffff::/48"}).value();
  return BanPolicy::Create(o).value();
}

class Bans : public ::testing::Test {
 protected:
  ManualClock clock_{FromUnix(1'800'000'000)};
  MemoryBanStore store_;
  BanList list_{store_, Policy()};
};

TEST(BanPolicy, GrowsExponentiallyUpToMax) {
  const BanPolicy p = Policy();
  const struct {
    int offence;
    std::int64_t seconds;
  } cases[] = {{0, 600}, {1, 600}, {2, 1200}, {3, 2400}, {4, 3000}, {50, 3000}, {100000, 3000}};
  for (const auto& c : cases) EXPECT_EQ(p.Duration(c.offence).count(), c.seconds) << c.offence;
}

TEST(BanPolicy, RejectsBadOptions) {
  BanPolicyOptions o;
  o.factor = 0.5;
  EXPECT_FALSE(BanPolicy::Create(o));
  o = {};
  o.base = Seconds(0);
  EXPECT_FALSE(BanPolicy::Create(o));
  o = {};
  o.max = Seconds(1);
  EXPECT_FALSE(BanPolicy::Create(o));
}

TEST_F(Bans, BansAndExpires) {
  auto ban = list_.BanSource(Net("192.0.2.7"), "scan", clock_.Now());
  ASSERT_TRUE(ban && ban->has_value());
  EXPECT_EQ((*ban)->source, "192.0.2.7/32");
  EXPECT_EQ((*ban)->offence_count, 1);
  EXPECT_TRUE(list_.IsBanned(Ip("192.0.2.7"), clock_.Now()));
  EXPECT_TRUE(list_.IsBanned(Ip("::ffff:192.0.2.7"), clock_.Now()));
  EXPECT_FALSE(list_.IsBanned(Ip("192.0.2.8"), clock_.Now()));
  clock_.Advance(Seconds(599));
  EXPECT_TRUE(list_.IsBanned(Ip("192.0.2.7"), clock_.Now()));
  clock_.Advance(Seconds(1));
  EXPECT_FALSE(list_.IsBanned(Ip("192.0.2.7"), clock_.Now()));
}

TEST_F(Bans, RepeatOffenderBanGrows) {
  std::vector<std::int64_t> durations;
  for (int i = 0; i < 4; ++i) {
    auto ban = list_.BanSource(Net("192.0.2.7"), "scan", clock_.Now()).value();
    ASSERT_TRUE(ban);
    durations.push_back(ban->expires - ban->created);
    EXPECT_EQ(ban->offence_count, i + 1);
    clock_.Set(FromUnix(ban->expires + 60));  // re-offends a minute after release
  }
  EXPECT_EQ(durations, (std::vector<std::int64_t>{600, 1200, 2400, 3000}));
}

TEST_F(Bans, ABanInForceIsNeitherExtendedNorCountedAgain) {
  auto first = list_.BanSource(Net("192.0.2.7"), "scan", clock_.Now()).value();
  ASSERT_TRUE(first);
  clock_.Advance(Seconds(300));
  auto again = list_.BanSource(Net("192.0.2.7"), "scan", clock_.Now());
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->has_value());
  ASSERT_EQ(list_.List(clock_.Now()).size(), 1u);
  EXPECT_EQ(list_.List(clock_.Now())[0].expires, first->expires);
  EXPECT_EQ(list_.List(clock_.Now())[0].offence_count, 1);
}

TEST_F(Bans, OffenceIsForgottenAfterRepeatMemory) {
  auto first = list_.BanSource(Net("192.0.2.7"), "scan", clock_.Now()).value();
  clock_.Set(FromUnix(first->expires + 86401));
  auto again = list_.BanSource(Net("192.0.2.7"), "scan", clock_.Now()).value();
  EXPECT_EQ(again->offence_count, 1);
}

TEST_F(Bans, AllowlistedSourcesAreNeverBanned) {
  auto host = list_.BanSource(Net("198.51.100.3"), "scan", clock_.Now());
  ASSERT_TRUE(host);
  EXPECT_FALSE(host->has_value());
  // An aggregate containing an operator address is not banned either.
  auto aggregate = list_.BanSource(Net("198.51.100.0/24"), "scan", clock_.Now());
  ASSERT_TRUE(aggregate);
  EXPECT_FALSE(aggregate->has_value());
  EXPECT_FALSE(list_.IsBanned(Ip("198.51.100.3"), clock_.Now()));
  EXPECT_TRUE(store_.LoadActiveBans(ToUnix(clock_.Now()))->empty());
}

TEST_F(Bans, AggregateBanCoversItsAddresses) {
  ASSERT_TRUE(list_.BanSource(Net("203.0.113.0/24"), "scan", clock_.Now()));
  ASSERT_TRUE(list_.BanSource(Net("2001:db8:1:2::/64"), "scan", clock_.Now()));
  EXPECT_TRUE(list_.IsBanned(Ip("203.0.113.200"), clock_.Now()));
  EXPECT_TRUE(list_.IsBanned(Ip("2001:db8:1:2::99"), clock_.Now()));
  EXPECT_FALSE(list_.IsBanned(Ip("203.0.114.1"), clock_.Now()));
  EXPECT_FALSE(list_.IsBanned(Ip("2001:db8:1:3::1"), clock_.Now()));
}

TEST_F(Bans, PersistsAndReloadsThroughStore) {
  ASSERT_TRUE(list_.BanSource(Net("192.0.2.7"), "scan", clock_.Now()));
  BanList other(store_, Policy());  // a second node, or a restart
  EXPECT_FALSE(other.IsBanned(Ip("192.0.2.7"), clock_.Now()));
  ASSERT_TRUE(other.Reload(clock_.Now()));
  EXPECT_TRUE(other.IsBanned(Ip("192.0.2.7"), clock_.Now()));
  ASSERT_EQ(other.List(clock_.Now()).size(), 1u);
  EXPECT_EQ(other.List(clock_.Now())[0].reason, "scan");
}

TEST_F(Bans, RemoveLiftsBanButKeepsHistory) {
  ASSERT_TRUE(list_.BanSource(Net("192.0.2.7"), "scan", clock_.Now()));
  ASSERT_TRUE(list_.Remove(Net("192.0.2.7")));
  EXPECT_FALSE(list_.IsBanned(Ip("192.0.2.7"), clock_.Now()));
  EXPECT_TRUE(store_.LoadActiveBans(ToUnix(clock_.Now()))->empty());
  auto again = list_.BanSource(Net("192.0.2.7"), "scan", clock_.Now()).value();
  EXPECT_EQ(again->offence_count, 2);
  EXPECT_EQ(list_.Remove(Net("192.0.2.99")).error().code, ErrorCode::kNotFound);
}

TEST_F(Bans, ReloadDropsBansLiftedElsewhere) {
  ASSERT_TRUE(list_.BanSource(Net("192.0.2.7"), "scan", clock_.Now()));
  ASSERT_TRUE(store_.RemoveBan("192.0.2.7/32"));  // `provgate ban remove` on another node
  ASSERT_TRUE(list_.Reload(clock_.Now()));
  EXPECT_FALSE(list_.IsBanned(Ip("192.0.2.7"), clock_.Now()));
}

TEST_F(Bans, ManualBanUsesGivenDuration) {
  auto ban = list_.AddManual(Net("192.0.2.0/24"), "operator", Seconds(60), clock_.Now());
  ASSERT_TRUE(ban);
  EXPECT_EQ(ban->expires - ban->created, 60);
  EXPECT_TRUE(list_.IsBanned(Ip("192.0.2.1"), clock_.Now()));
  EXPECT_FALSE(list_.AddManual(Net("192.0.2.0/24"), "operator", Seconds(0), clock_.Now()));
}

TEST_F(Bans, HistoryIsBounded) {
  BanList small(store_, Policy(), 4);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(small.BanSource(Net("10.0.0." + std::to_string(i)), "scan", clock_.Now()));
    clock_.Advance(Seconds(700));  // each ban has expired before the next
  }
  // Only the latest expired bans are remembered: an old one starts again at offence 1.
  EXPECT_EQ(small.BanSource(Net("10.0.0.0"), "scan", clock_.Now()).value()->offence_count, 1);
  EXPECT_EQ(small.BanSource(Net("10.0.0.9"), "scan", clock_.Now()).value()->offence_count, 2);
}

}  // namespace
}  // namespace provgate::defense
