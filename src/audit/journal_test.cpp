#include "audit/journal.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace provgate::audit {
namespace {

std::filesystem::path Fresh(const std::string& name) {
  auto p = std::filesystem::path(::testing::TempDir()) / name;
  std::filesystem::remove(p);
  return p;
}

TEST(Journal, ResetWritesTheWholeRingAndAppendsFollowEachOther) {
  auto j = Journal::Open(Fresh("journal_basic"), 4096).value();
  ASSERT_TRUE(j->Reset());
  EXPECT_EQ(j->Contents().value(), std::string(4096, '\0'));
  int wraps = 0;
  auto no_wrap = [&] {
    ++wraps;
    return Ok();
  };
  ASSERT_TRUE(j->Append("a\n", no_wrap));
  ASSERT_TRUE(j->Append("bb\n", no_wrap));
  EXPECT_EQ(wraps, 0);
  EXPECT_EQ(j->Contents().value().substr(0, 6), std::string("a\nbb\n\0", 6));
  // Reopened, the ring still holds them (a crash leaves them for the next start).
  j.reset();
  j = Journal::Open(std::filesystem::path(::testing::TempDir()) / "journal_basic", 4096).value();
  EXPECT_EQ(j->Contents().value().substr(0, 5), "a\nbb\n");
}

TEST(Journal, WrapsOnlyAfterTheCallerMadeTheOldLinesDurable) {
  auto j = Journal::Open(Fresh("journal_wrap"), 10).value();
  ASSERT_TRUE(j->Reset());
  int wraps = 0;
  auto synced = [&] {
    ++wraps;
    return Ok();
  };
  ASSERT_TRUE(j->Append("1234\n", synced));
  ASSERT_TRUE(j->Append("5678\n", synced));  // exactly full
  EXPECT_EQ(wraps, 0);
  ASSERT_TRUE(j->Append("ab\n", synced));  // does not fit: the caller syncs, then the start
  EXPECT_EQ(wraps, 1);
  EXPECT_EQ(j->Contents().value(), "ab\n4\n5678\n");
  // A failed sync leaves the ring as it was and fails the append.
  auto failing = [] { return Status(Error::Unavailable("disk gone")); };
  ASSERT_TRUE(j->Append("cd\n", failing));  // still fits after "ab\n"
  const auto before = j->Contents().value();
  const auto st = j->Append("efghi\n", failing);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message, "disk gone");
  EXPECT_EQ(j->Contents().value(), before);
}

TEST(Journal, RefusesABatchLargerThanTheRing) {
  auto j = Journal::Open(Fresh("journal_big"), 8).value();
  ASSERT_TRUE(j->Reset());
  const auto st = j->Append("123456789\n", [] { return Ok(); });
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace provgate::audit
