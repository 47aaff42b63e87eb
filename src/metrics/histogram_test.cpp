#include "metrics/histogram.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace provgate::metrics {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

TEST(Histogram, CountsEachObservationInEveryBucketFromItsOwnUpwards) {
  Histogram h;
  h.Observe(microseconds(100));  // <= 0.5 ms
  h.Observe(microseconds(500));  // exactly on the first bound: le is inclusive
  h.Observe(milliseconds(3));    // <= 5 ms
  h.Observe(seconds(10));        // above every bound
  const auto r = h.Read();
  EXPECT_EQ(r.cumulative[0], 2u);                        // 0.0005
  EXPECT_EQ(r.cumulative[1], 2u);                        // 0.001
  EXPECT_EQ(r.cumulative[2], 2u);                        // 0.0025
  EXPECT_EQ(r.cumulative[3], 3u);                        // 0.005
  EXPECT_EQ(r.cumulative[Histogram::kBuckets - 1], 3u);  // 5 s
  EXPECT_EQ(r.count, 4u);
  EXPECT_NEAR(r.sum_seconds, 0.0001 + 0.0005 + 0.003 + 10, 1e-9);
}

TEST(Histogram, NegativeDurationsCountAsZero) {
  Histogram h;
  h.Observe(nanoseconds(-5));
  const auto r = h.Read();
  EXPECT_EQ(r.cumulative[0], 1u);
  EXPECT_EQ(r.sum_seconds, 0.0);
}

TEST(Histogram, ConcurrentObservationsAreAllCounted) {
  Histogram h;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&h, t] {
      for (int i = 0; i < 10000; ++i) h.Observe(microseconds(t * 1000 + i % 7));
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(h.Read().count, 40000u);
}

TEST(Histogram, WritesPrometheusBucketsSumAndCount) {
  Histogram h;
  h.Observe(milliseconds(2));
  std::string out;
  AppendHistogram(out, "x_seconds", "listener=\"devices\"", h.Read());
  EXPECT_NE(out.find("x_seconds_bucket{listener=\"devices\",le=\"0.001\"} 0\n"), std::string::npos) << out;
  EXPECT_NE(out.find("x_seconds_bucket{listener=\"devices\",le=\"0.0025\"} 1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("x_seconds_bucket{listener=\"devices\",le=\"+Inf\"} 1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("x_seconds_sum{listener=\"devices\"} 0.002\n"), std::string::npos) << out;
  EXPECT_NE(out.find("x_seconds_count{listener=\"devices\"} 1\n"), std::string::npos) << out;
  std::string bare;
  AppendHistogram(bare, "y_seconds", "", h.Read());
  EXPECT_NE(bare.find("y_seconds_bucket{le=\"+Inf\"} 1\n"), std::string::npos) << bare;
  EXPECT_NE(bare.find("y_seconds_count 1\n"), std::string::npos) << bare;
}

TEST(EscapeLabelValue, EscapesBackslashQuoteAndNewline) {
  EXPECT_EQ(EscapeLabelValue("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
}

}  // namespace
}  // namespace provgate::metrics
