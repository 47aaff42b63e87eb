#include "store/change_log.hpp"

#include <gtest/gtest.h>

namespace provgate::store {
namespace {

TEST(ChangeLogTest, NothingChangedSinceTheCurrentGeneration) {
  ChangeLog log;
  const DataChanges none = log.ChangesSince(log.Load());
  EXPECT_EQ(none.upto, 0u);
  ASSERT_TRUE(none.keys);
  EXPECT_TRUE(none.keys->empty());
  EXPECT_FALSE(none.Touches(ChangedKey::Device(1)));
}

TEST(ChangeLogTest, NamesEachKeyWrittenAfterAGeneration) {
  ChangeLog log;
  log.Record(ChangedKey::Device(1));
  const std::uint64_t seen = log.Load();
  log.Record(ChangedKey::Device(2));
  log.Record(ChangedKey::Tenant(1));
  const DataChanges changes = log.ChangesSince(seen);
  EXPECT_EQ(changes.upto, 3u);
  ASSERT_TRUE(changes.keys);
  EXPECT_EQ(changes.keys->size(), 2u);
  EXPECT_TRUE(changes.Touches(ChangedKey::Device(2)));
  EXPECT_TRUE(changes.Touches(ChangedKey::Tenant(1)));
  EXPECT_FALSE(changes.Touches(ChangedKey::Device(1)));  // before `seen`
  EXPECT_FALSE(changes.Touches(ChangedKey::Tenant(2)));
}

TEST(ChangeLogTest, AChangeOfAnythingTouchesEverything) {
  ChangeLog log;
  log.Record(ChangedKey::Device(1));
  log.Record(std::nullopt);
  log.Record(ChangedKey::Device(2));
  EXPECT_FALSE(log.ChangesSince(0).keys);
  EXPECT_TRUE(log.ChangesSince(0).Touches(ChangedKey::Tenant(9)));
  EXPECT_TRUE(log.ChangesSince(2).keys);  // after the change of anything
}

TEST(ChangeLogTest, ChangesOlderThanItRemembersTouchEverything) {
  ChangeLog log(2);
  log.Record(ChangedKey::Device(1));
  log.Record(ChangedKey::Device(2));
  log.Record(ChangedKey::Device(3));
  EXPECT_FALSE(log.ChangesSince(0).keys);  // step 1 is forgotten
  ASSERT_TRUE(log.ChangesSince(1).keys);
  EXPECT_EQ(log.ChangesSince(1).keys->size(), 2u);
}

TEST(ChangeLogTest, WaitBeyondReturnsOnceTheGenerationMoved) {
  ChangeLog log;
  EXPECT_FALSE(log.WaitBeyond(0, std::chrono::milliseconds(1)));
  log.Record(ChangedKey::Device(1));
  EXPECT_TRUE(log.WaitBeyond(0, std::chrono::milliseconds(1)));
}

}  // namespace
}  // namespace provgate::store
