#include "audit/log_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <string>
#include <vector>

#include "audit/test_support.hpp"

namespace provgate::audit {
namespace {

using test_support::TempFile;

std::string Contents(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(LogFile, FileIsNotWorldReadable) {
  auto path = TempFile("logfile_mode.log");
  auto file = LogFile::Open(path).value();
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07, 0u);
}

TEST(LogFile, AppendsAfterWhatOthersWrote) {
  auto path = TempFile("logfile_append.log");
  auto file = LogFile::Open(path).value();
  ASSERT_TRUE(file->Append("a\n"));
  std::ofstream(path, std::ios::app) << "other\n";
  ASSERT_TRUE(file->Append("b\n"));
  ASSERT_TRUE(file->Sync());
  EXPECT_EQ(Contents(path), "a\nother\nb\n");
  EXPECT_EQ(file->EndOfLastWrite(), 10);
  EXPECT_EQ(file->Size().value(), 10);
}

TEST(LogFile, ATornLineIsEndedOnce) {
  auto path = TempFile("logfile_torn.log");
  auto file = LogFile::Open(path).value();
  ASSERT_TRUE(file->EndTornLine());  // empty: nothing to end
  EXPECT_EQ(Contents(path), "");
  ASSERT_TRUE(file->Append("whole\ncut"));
  ASSERT_TRUE(file->EndTornLine());
  ASSERT_TRUE(file->EndTornLine());
  EXPECT_EQ(Contents(path), "whole\ncut\n");
}

TEST(LogFile, ScanReadsCompleteLinesOnly) {
  auto path = TempFile("logfile_scan.log");
  auto file = LogFile::Open(path).value();
  ASSERT_TRUE(file->Append("one\ntwo\nthree\ncut"));
  std::vector<std::string> lines;
  const auto end = file->ScanLines(4, file->Size().value(), [&](std::string_view l) { lines.emplace_back(l); });
  ASSERT_TRUE(end);
  EXPECT_EQ(*end, 14);  // just past "three\n"
  EXPECT_EQ(lines, (std::vector<std::string>{"two", "three"}));
}

TEST(LogFile, OneServerLockPerFile) {
  auto path = TempFile("logfile_lock.log");
  auto first = LogFile::Open(path).value();
  auto second = LogFile::Open(path).value();
  ASSERT_TRUE(first->LockForServer());
  const auto st = second->LockForServer();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kUnavailable);
  first.reset();
  EXPECT_TRUE(second->LockForServer());
}

}  // namespace
}  // namespace provgate::audit
