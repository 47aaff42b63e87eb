#include "bench/histogram.hpp"

#include <gtest/gtest.h>

namespace provgate::bench {
namespace {

TEST(LatencyHistogram, EmptyReportsZero) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0U);
  EXPECT_EQ(h.Quantile(0.5), 0U);
  EXPECT_EQ(h.max(), 0U);
  EXPECT_EQ(h.min(), 0U);
  EXPECT_EQ(h.Mean(), 0.0);
}

TEST(LatencyHistogram, SmallValuesAreExact) {
  LatencyHistogram h;
  for (std::uint64_t v = 1; v <= 50; ++v) h.Record(v);
  EXPECT_EQ(h.Quantile(0.5), 25U);
  EXPECT_EQ(h.Quantile(0.9), 45U);
  EXPECT_EQ(h.Quantile(1.0), 50U);
  EXPECT_EQ(h.Quantile(0.0), 1U);
  EXPECT_DOUBLE_EQ(h.Mean(), 25.5);
}

TEST(LatencyHistogram, LargeValuesWithinRelativeError) {
  LatencyHistogram h;
  for (std::uint64_t v = 1; v <= 100000; ++v) h.Record(v);
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    const double truth = q * 100000;
    const auto got = static_cast<double>(h.Quantile(q));
    EXPECT_GE(got, truth) << q;  // an upper bound: never flatters the server
    EXPECT_LE(got, truth * (1 + 1.0 / 32) + 1) << q;
  }
  EXPECT_EQ(h.max(), 100000U);
}

TEST(LatencyHistogram, QuantileNeverExceedsMax) {
  LatencyHistogram h;
  h.Record(1000);
  EXPECT_EQ(h.Quantile(0.99), 1000U);
}

TEST(LatencyHistogram, OutlierShowsInMaxAndHighQuantile) {
  LatencyHistogram h;
  for (int i = 0; i < 99; ++i) h.Record(100);
  h.Record(5'000'000);
  EXPECT_LE(h.Quantile(0.99), 101U);
  EXPECT_EQ(h.Quantile(1.0), 5'000'000U);
  EXPECT_EQ(h.max(), 5'000'000U);
}

TEST(LatencyHistogram, BucketsAreContiguousAndOrdered) {
  std::uint64_t previous_upper = 0;
  for (std::uint64_t v = 1; v < (1ULL << 20); v = v * 3 / 2 + 1) {
    const auto i = LatencyHistogram::BucketIndex(v);
    EXPECT_GE(LatencyHistogram::BucketUpperBound(i), v);
    if (i > 0) {
      EXPECT_LT(LatencyHistogram::BucketUpperBound(i - 1), v);
    }
    EXPECT_GE(LatencyHistogram::BucketUpperBound(i), previous_upper);
    previous_upper = LatencyHistogram::BucketUpperBound(i);
  }
}

TEST(LatencyHistogram, HugeValuesAreClampedNotLost) {
  LatencyHistogram h;
  h.Record(~0ULL);
  EXPECT_EQ(h.count(), 1U);
  EXPECT_EQ(h.max(), ~0ULL);
  EXPECT_GT(h.Quantile(0.5), 1ULL << 40);
}

TEST(LatencyHistogram, MergeEqualsRecordingEverything) {
  LatencyHistogram a, b, all;
  for (std::uint64_t v = 0; v < 1000; ++v) {
    (v % 2 ? a : b).Record(v * 7);
    all.Record(v * 7);
  }
  a.Merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.max(), all.max());
  EXPECT_EQ(a.min(), all.min());
  for (double q : {0.1, 0.5, 0.9, 0.99}) EXPECT_EQ(a.Quantile(q), all.Quantile(q));
}

}  // namespace
}  // namespace provgate::bench
