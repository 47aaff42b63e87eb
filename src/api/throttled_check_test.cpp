#include "api/throttled_check.hpp"

#include <gtest/gtest.h>

namespace provgate::api {
namespace {

TEST(ThrottledCheck, AsksAtMostOncePerIntervalAndRepeatsTheAnswer) {
  ManualSteadyClock clock;
  int asked = 0;
  bool healthy = true;
  ThrottledCheck check(
      [&]() -> Status {
        ++asked;
        return healthy ? Ok() : Status(Error::Unavailable("down"));
      },
      std::chrono::milliseconds(1000), clock);
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(check());
  EXPECT_EQ(asked, 1);
  healthy = false;
  clock.Advance(std::chrono::milliseconds(999));
  EXPECT_TRUE(check());  // the last answer, still
  EXPECT_EQ(asked, 1);
  clock.Advance(std::chrono::milliseconds(1));
  EXPECT_FALSE(check());
  EXPECT_FALSE(check());
  EXPECT_EQ(asked, 2);
  healthy = true;
  clock.Advance(std::chrono::milliseconds(1000));
  EXPECT_TRUE(check());
  EXPECT_EQ(asked, 3);
}

// A check slower than the interval: the callers that waited for it get its answer instead
// of each asking again.
TEST(ThrottledCheck, CountsTheIntervalFromTheAnswer) {
  ManualSteadyClock clock;
  int asked = 0;
  ThrottledCheck check(
      [&]() -> Status {
        ++asked;
        clock.Advance(std::chrono::seconds(5));  // a database that takes 5 s to answer
        return Ok();
      },
      std::chrono::milliseconds(1000), clock);
  EXPECT_TRUE(check());
  EXPECT_TRUE(check());
  EXPECT_EQ(asked, 1);
}

}  // namespace
}  // namespace provgate::api
