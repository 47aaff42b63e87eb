#include "bench/schedule.hpp"

#include <gtest/gtest.h>

namespace provgate::bench {
namespace {

constexpr std::int64_t kSecond = 1'000'000'000;

TEST(OpenLoopSchedule, FirstRequestIsDueImmediately) {
  OpenLoopSchedule s(600, 1000);
  EXPECT_EQ(s.DueAt(0), 0);
  EXPECT_EQ(s.DueCount(0), 1U);
  EXPECT_EQ(s.DueCount(-1), 0U);
}

TEST(OpenLoopSchedule, EvenlySpaced) {
  OpenLoopSchedule s(1000, 1'000'000);
  EXPECT_EQ(s.DueAt(1), 1'000'000);
  EXPECT_EQ(s.DueAt(1000), kSecond);
  EXPECT_EQ(s.DueCount(kSecond), 1001U);
  EXPECT_EQ(s.DueCount(kSecond - 1), 1000U);
}

TEST(OpenLoopSchedule, FractionalPeriodsDoNotDrift) {
  OpenLoopSchedule s(900, 100'000'000);  // period 1.111... ms
  EXPECT_EQ(s.DueAt(900), kSecond);
  EXPECT_EQ(s.DueAt(900ULL * 3600), 3600 * kSecond);
  EXPECT_EQ(s.DueCount(3600 * kSecond), 900ULL * 3600 + 1);
}

TEST(OpenLoopSchedule, DueCountAgreesWithDueAt) {
  OpenLoopSchedule s(7.3, 100000);
  for (std::uint64_t i = 1; i < 500; ++i) {
    EXPECT_EQ(s.DueCount(s.DueAt(i)), i + 1) << i;
    EXPECT_EQ(s.DueCount(s.DueAt(i) - 1), i) << i;
  }
}

TEST(OpenLoopSchedule, CappedByLimit) {
  OpenLoopSchedule s(600, 10);
  EXPECT_EQ(s.DueCount(3600 * kSecond), 10U);
  OpenLoopSchedule none(600, 0);
  EXPECT_EQ(none.DueCount(kSecond), 0U);
}

TEST(OpenLoopSchedule, MonotonicInTime) {
  OpenLoopSchedule s(913, 1'000'000);
  std::uint64_t previous = 0;
  for (std::int64_t t = 0; t < 2 * kSecond; t += 333'331) {
    const auto n = s.DueCount(t);
    EXPECT_GE(n, previous);
    previous = n;
  }
}

}  // namespace
}  // namespace provgate::bench
