#include "api/auth_throttle.hpp"

#include <gtest/gtest.h>

#include <string>

namespace provgate::api {
namespace {

constexpr AuthThrottleOptions kOptions{.max_failures = 2, .window_seconds = 60, .block_seconds = 300};

void Fail(AuthThrottle& t, const std::string& source, std::string_view prefix, int times, std::int64_t now) {
  for (int i = 0; i < times; ++i) t.RecordFailure(source, prefix, now);
}

TEST(AuthThrottle, AnIpv6SourceIsItsSlash64) {
  AuthThrottle t(kOptions);
  t.RecordFailure("2001:db8:1:2::1", "", 0);
  t.RecordFailure("2001:db8:1:2::2", "", 0);
  t.RecordFailure("2001:db8:1:2:ffff::3", "", 0);  // three addresses, one /64: over the limit
  EXPECT_GT(t.SourceBlocked("2001:db8:1:2::99", 1), 0);
  EXPECT_EQ(t.SourceBlocked("2001:db8:1:3::1", 1), 0);  // the next /64 is someone else
}

TEST(AuthThrottle, AnIpv4SourceIsItsAddressInAnySpelling) {
  AuthThrottle t(kOptions);
  Fail(t, "192.0.2.7", "", 3, 0);
  EXPECT_GT(t.SourceBlocked("::ffff:192.0.2.7", 1), 0);
  EXPECT_EQ(t.SourceBlocked("192.0.2.8", 1), 0);
}

// An attacker with many sources filling the table must not lift a block it wants gone (a
// portal user's lockout, another source's block): when full, only entries that no longer
// count make room.
TEST(AuthThrottle, AFullTableDropsOnlyEntriesThatNoLongerCount) {
  AuthThrottle t(kOptions);
  Fail(t, "198.51.100.1", "user:olivia", 3, 0);
  ASSERT_GT(t.PrefixBlocked("user:olivia", 1), 0);
  for (size_t i = 0; t.size() < AuthThrottle::kMaxEntries; ++i) {
    t.RecordFailure("flood-" + std::to_string(i), "", 1);
  }
  t.RecordFailure("one-more", "", 2);
  EXPECT_GT(t.PrefixBlocked("user:olivia", 2), 0);
  EXPECT_GT(t.SourceBlocked("198.51.100.1", 2), 0);
  EXPECT_LE(t.size(), AuthThrottle::kMaxEntries);
  // Once the flood's windows have passed, its entries make room; the blocks still hold.
  t.RecordFailure("later", "", 100);
  EXPECT_LT(t.size(), AuthThrottle::kMaxEntries);
  EXPECT_GT(t.PrefixBlocked("user:olivia", 100), 0);
}

}  // namespace
}  // namespace provgate::api
