#include "defense/counters.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace provgate::defense {
namespace {

TEST(Counters, CountsByNameAndSnapshots) {
  Counters c;
  c.Increment(counter_names::kBans);
  c.Increment("refusals.unknown_device", 3);
  Counter& hot = c.Get(counter_names::kRateLimited);
  hot.Increment();
  hot.Increment();
  const auto snap = c.Snapshot();
  EXPECT_EQ(snap.at("bans"), 1u);
  EXPECT_EQ(snap.at("refusals.unknown_device"), 3u);
  EXPECT_EQ(snap.at("rate_limited"), 2u);
  EXPECT_EQ(&c.Get("rate_limited"), &hot);
}

TEST(Counters, ConcurrentIncrementsAreNotLost) {
  Counters c;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) c.Increment("shed");
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.Snapshot().at("shed"), 40000u);
}

TEST(Counters, DistinctNamesAreBounded) {
  Counters c;
  for (size_t i = 0; i < Counters::kMaxCounters + 50; ++i) c.Increment("n" + std::to_string(i));
  const auto snap = c.Snapshot();
  EXPECT_EQ(snap.size(), Counters::kMaxCounters + 1);
  EXPECT_EQ(snap.at("counters.overflow"), 50u);
}

}  // namespace
}  // namespace provgate::defense
