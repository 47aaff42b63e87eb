#include "base/clock.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace provgate {
namespace {

TEST(ManualSteadyClock, MovesOnlyWhenAdvanced) {
  ManualSteadyClock clock;
  const auto start = clock.Now();
  EXPECT_EQ(clock.Now(), start);
  clock.Advance(std::chrono::seconds(3));
  EXPECT_EQ(clock.Now() - start, std::chrono::seconds(3));
}

TEST(ManualSteadyClock, AdvanceWakesAThreadWaitingForItsDeadline) {
  ManualSteadyClock clock;
  std::mutex mu;
  std::condition_variable cv;
  bool woke = false;
  std::thread waiter([&] {
    std::unique_lock lock(mu);
    WaitUntil(clock, cv, lock, clock.Now() + std::chrono::seconds(5), [] { return false; });
    woke = true;
  });
  ASSERT_TRUE(clock.AwaitWaiters(1));
  clock.Advance(std::chrono::seconds(4));
  {
    std::lock_guard lock(mu);
    EXPECT_FALSE(woke);
  }
  clock.Advance(std::chrono::seconds(1));
  waiter.join();
  EXPECT_TRUE(woke);
  EXPECT_EQ(clock.waiters(), 0u);
}

TEST(ManualSteadyClock, AWaitEndsWhenItsConditionHolds) {
  ManualSteadyClock clock;
  std::mutex mu;
  std::condition_variable cv;
  bool ready = false;
  std::thread waiter([&] {
    std::unique_lock lock(mu);
    EXPECT_TRUE(WaitUntil(clock, cv, lock, clock.Now() + std::chrono::hours(1), [&] { return ready; }));
  });
  ASSERT_TRUE(clock.AwaitWaiters(1));
  {
    std::lock_guard lock(mu);
    ready = true;
  }
  cv.notify_all();
  waiter.join();
}

}  // namespace
}  // namespace provgate
