#include "defense/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <set>

#include "crypto/random.hpp"

namespace provgate::defense {
namespace {

class RateLimiterTest : public ::testing::Test {
 protected:
  std::unique_ptr<RateLimiter> Make(size_t max_buckets = 100000, size_t shards = 16) {
    RateLimiterOptions o;
    o.classes["device"] = RateLimit{0.1, 5};
    o.classes["tenant"] = RateLimit{50, 2000};  // a boot storm fits in the burst
    o.classes["ip"] = RateLimit{1, 10};
    o.fallback = RateLimit{1, 1};
    o.max_buckets = max_buckets;
    o.shards = shards;
    return RateLimiter::Create(clock_, o).value();
  }
  ManualClock clock_{FromUnix(1'800'000'000)};
};

TEST_F(RateLimiterTest, AllowsBurstThenRefusesWithRetryAfter) {
  auto rl = Make();
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(rl->Acquire("ip:192.0.2.1").allowed) << i;
  const auto refused = rl->Acquire("ip:192.0.2.1");
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after_seconds, 1);
  clock_.Advance(Seconds(1));
  EXPECT_TRUE(rl->Acquire("ip:192.0.2.1").allowed);
  EXPECT_FALSE(rl->Acquire("ip:192.0.2.1").allowed);
}

TEST_F(RateLimiterTest, RetryAfterReflectsSlowRefill) {
  auto rl = Make();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(rl->Acquire("device:001565aabbcc").allowed);
  EXPECT_EQ(rl->Acquire("device:001565aabbcc").retry_after_seconds, 10);
  clock_.Advance(Seconds(10));
  EXPECT_TRUE(rl->Acquire("device:001565aabbcc").allowed);
}

TEST_F(RateLimiterTest, FiveHundredDevicesBehindOneNatAreLimitedPerDevice) {
  // A boot storm: 500 authenticated phones behind one public address, each fetching a few
  // files. Keyed by identity, none is limited; keyed by the address they would all be.
  auto rl = Make();
  for (int file = 0; file < 3; ++file) {
    for (int d = 0; d < 500; ++d) {
      EXPECT_TRUE(rl->Acquire("device:" + std::to_string(100000 + d)).allowed) << d;
      EXPECT_TRUE(rl->Acquire("tenant:7").allowed) << d;
    }
  }
  int allowed_as_one_source = 0;
  for (int i = 0; i < 1500; ++i) allowed_as_one_source += rl->Acquire("ip:203.0.113.9").allowed;
  EXPECT_EQ(allowed_as_one_source, 10);
}

TEST_F(RateLimiterTest, UnknownClassUsesFallback) {
  auto rl = Make();
  EXPECT_TRUE(rl->Acquire("other").allowed);
  EXPECT_FALSE(rl->Acquire("other").allowed);
}

TEST_F(RateLimiterTest, BoundsMemoryByEvictingLeastRecentlyUsed) {
  auto rl = Make(8, 1);
  for (int i = 0; i < 100; ++i) rl->Acquire("ip:10.0.0." + std::to_string(i));
  EXPECT_EQ(rl->bucket_count(), 8u);
  EXPECT_EQ(rl->evicted_early(), 92u);
  // Evicting a bucket that has refilled loses nothing and is not counted.
  clock_.Advance(Seconds(100));
  for (int i = 0; i < 8; ++i) rl->Acquire("ip:10.1.0." + std::to_string(i));
  EXPECT_EQ(rl->evicted_early(), 92u);
}

TEST_F(RateLimiterTest, ClockSteppingBackDoesNotDrainOrRefill) {
  auto rl = Make();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(rl->Acquire("ip:192.0.2.1").allowed);
  clock_.Advance(Seconds(-3600));
  EXPECT_FALSE(rl->Acquire("ip:192.0.2.1").allowed);
}

TEST_F(RateLimiterTest, RejectsBadConfiguration) {
  RateLimiterOptions o;
  o.classes["ip"] = RateLimit{0, 10};
  EXPECT_FALSE(RateLimiter::Create(clock_, o));
  o.classes["ip"] = RateLimit{1, 0.5};
  EXPECT_FALSE(RateLimiter::Create(clock_, o));
  RateLimiterOptions z;
  z.shards = 0;
  EXPECT_FALSE(RateLimiter::Create(clock_, z));
}

TEST(SourceRateKey, GroupsIpv6ByPrefix) {
  EXPECT_EQ(SourceRateKey(net::IpAddress::Parse("192.0.2.1").value()), "ip:192.0.2.1");
  EXPECT_EQ(SourceRateKey(net::IpAddress::Parse("2001:db8:1:2:3::4").value()), "ip:2001:db8:1:2::/64");
  EXPECT_EQ(SourceRateKey(net::IpAddress::Parse("::ffff:192.0.2.1").value()), "ip:192.0.2.1");
}

TEST(ConcurrencyGate, ShedsOverCapWithJitteredRetryAfter) {
  ASSERT_TRUE(crypto::InitCrypto());
  auto gate = ConcurrencyGate::Create({2, 5, 9}).value();
  auto a = gate->TryEnter();
  auto b = gate->TryEnter();
  EXPECT_TRUE(a.admitted());
  EXPECT_TRUE(b.admitted());
  std::set<std::int64_t> seen;
  for (int i = 0; i < 200; ++i) {
    auto shed = gate->TryEnter();
    ASSERT_FALSE(shed.admitted());
    ASSERT_GE(shed.retry_after_seconds(), 5);
    ASSERT_LE(shed.retry_after_seconds(), 9);
    seen.insert(shed.retry_after_seconds());
  }
  EXPECT_GT(seen.size(), 1u);  // 200 draws from 5 values: all equal has odds 5^-199
  EXPECT_EQ(gate->in_flight(), 2u);
  { auto moved = std::move(a); }
  EXPECT_EQ(gate->in_flight(), 1u);
  EXPECT_TRUE(gate->TryEnter().admitted());
  EXPECT_EQ(gate->in_flight(), 1u);
}

TEST(ConcurrencyGate, RejectsBadConfiguration) {
  EXPECT_FALSE(ConcurrencyGate::Create({0, 1, 2}));
  EXPECT_FALSE(ConcurrencyGate::Create({1, 5, 4}));
  EXPECT_FALSE(ConcurrencyGate::Create({1, -1, 4}));
}

}  // namespace
}  // namespace provgate::defense
