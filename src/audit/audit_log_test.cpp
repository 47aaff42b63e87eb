#include "audit/audit_log.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

namespace provgate::audit {
namespace {

std::filesystem::path TempFile(const std::string& name) {
  auto p = std::filesystem::path(::testing::TempDir()) / name;
  std::filesystem::remove(p);
  return p;
}

std::vector<nlohmann::json> ReadLines(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::vector<nlohmann::json> out;
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

TEST(AuditLog, WritesOneJsonLinePerRecord) {
  auto path = TempFile("audit_one.log");
  auto log = AuditLog::Open(path, nullptr).value();
  AuditRecord r;
  r.time = FromUnix(1700000000);
  r.listener = "devices";
  r.peer = "127.0.0.1:5555";
  r.file = "/001565aabbcc.cfg";
  r.user_agent = "Yealink SIP-T54W 96.86.0.100 00:15:65:aa:bb:cc";
  r.identity_source = "client-cert";
  r.mac = "001565aabbcc";
  r.decision = "deny";
  r.reason = "mac mismatch";
  r.status = 404;
  ASSERT_TRUE(log->Write(r, Durability::kDurable));
  auto lines = ReadLines(path);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["reason"], "mac mismatch");
  EXPECT_EQ(lines[0]["time"], "2023-11-14T22:13:20.000Z");
  EXPECT_EQ(lines[0]["status"], 404);
  EXPECT_EQ(lines[0]["identity_source"], "client-cert");
}

TEST(AuditLog, InvalidUtf8InUserAgentIsStillRecorded) {
  auto path = TempFile("audit_utf8.log");
  auto log = AuditLog::Open(path, nullptr).value();
  AuditRecord r;
  r.user_agent = std::string("evil\xff\xfe\n{\"x\":1}");
  r.decision = "deny";
  ASSERT_TRUE(log->Write(r, Durability::kBuffered));
  auto lines = ReadLines(path);
  ASSERT_EQ(lines.size(), 1u);  // the newline inside the UA did not split the record
}

TEST(AuditLog, ConcurrentDurableWritersKeepEveryLineWhole) {
  auto path = TempFile("audit_conc.log");
  auto log = AuditLog::Open(path, nullptr).value();
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&log, t] {
      for (int i = 0; i < 50; ++i) {
        AuditRecord r;
        r.decision = "allow";
        r.reason = "t" + std::to_string(t) + "-" + std::to_string(i);
        ASSERT_TRUE(log->Write(r, Durability::kDurable));
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ReadLines(path).size(), 400u);
}

TEST(AuditLog, SubmitCompletesOnlyOnceTheRecordIsInTheFile) {
  auto path = TempFile("audit_submit.log");
  auto log = AuditLog::Open(path, nullptr).value();
  std::mutex m;
  std::vector<std::string> seen_in_file;
  std::atomic<int> completions{0};
  for (int i = 0; i < 20; ++i) {
    AuditRecord r;
    r.decision = "allow";
    r.reason = "r" + std::to_string(i);
    log->Submit(r, Durability::kDurable, std::nullopt, [&, reason = r.reason](const Status& st) {
      EXPECT_TRUE(st);
      // Runs on the committer: by now the line must be readable from the file.
      bool found = false;
      for (const auto& line : ReadLines(path)) found = found || line["reason"] == reason;
      std::lock_guard lock(m);
      if (found) seen_in_file.push_back(reason);
      ++completions;
    });
  }
  log->Drain();
  EXPECT_EQ(completions.load(), 20);
  EXPECT_EQ(seen_in_file.size(), 20u);
}

TEST(AuditLog, DestructorCommitsEverythingQueued) {
  auto path = TempFile("audit_close.log");
  std::atomic<int> completions{0};
  {
    auto log = AuditLog::Open(path, nullptr).value();
    for (int i = 0; i < 500; ++i) {
      AuditRecord r;
      r.decision = "deny";
      r.reason = std::to_string(i);
      log->Submit(r, Durability::kDurable, std::nullopt, [&](const Status&) { ++completions; });
    }
  }
  EXPECT_EQ(completions.load(), 500);
  const auto lines = ReadLines(path);
  ASSERT_EQ(lines.size(), 500u);
  for (size_t i = 0; i < lines.size(); ++i) EXPECT_EQ(lines[i]["reason"], std::to_string(i));  // in order
}

TEST(AuditLog, WriteFailureReachesEveryCompletion) {
  // A full disk, simulated by the kernel: writes to /dev/full fail with ENOSPC.
  auto full = AuditLog::Open("/dev/full", nullptr);
  ASSERT_TRUE(full);
  AuditRecord r;
  r.decision = "allow";
  std::atomic<int> failed{0};
  for (int i = 0; i < 3; ++i) {
    (*full)->Submit(r, Durability::kDurable, std::nullopt, [&](const Status& st) {
      if (!st) ++failed;
    });
  }
  (*full)->Drain();
  EXPECT_EQ(failed.load(), 3);
  EXPECT_FALSE((*full)->Write(r, Durability::kDurable));
}

AuditRecord Allowed() {
  AuditRecord r;
  r.decision = "allow";
  return r;
}

// A log with this commit delay that has just committed one record (idle: at once), so the
// committer counts as busy for the next batch.
std::unique_ptr<AuditLog> BusyLog(const std::string& name, std::chrono::microseconds delay) {
  AuditOptions options;
  options.commit_delay = delay;
  auto log = AuditLog::Open(TempFile(name), nullptr, options).value();
  EXPECT_TRUE(log->Write(Allowed(), Durability::kDurable));
  EXPECT_EQ(log->batches(), 1u);
  return log;
}

TEST(AuditLog, BusyCommitterDelaysABatchSoLaterRecordsShareItsSync) {
  auto log = BusyLog("audit_delay.log", std::chrono::milliseconds(2000));
  // Another connection may still submit: the next record waits for company.
  CommitSibling other(*log);
  std::atomic<int> done{0};
  log->Submit(Allowed(), Durability::kDurable, std::nullopt, [&](const Status&) { ++done; });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(done.load(), 0);
  log->Submit(Allowed(), Durability::kDurable, std::nullopt, [&](const Status&) { ++done; });
  log->Drain();
  EXPECT_EQ(done.load(), 2);
  EXPECT_EQ(log->batches(), 2u);  // both records in one batch, one fdatasync
}

// Nothing can join a batch once every open connection waits for it: the delay ends then.
TEST(AuditLog, CommitDelayEndsWhenNoSiblingCanAddARecord) {
  auto log = BusyLog("audit_siblings.log", std::chrono::seconds(30));
  // Busy, but no sibling at all: committed at once, not 30 s later.
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(log->Write(Allowed(), Durability::kDurable));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_EQ(log->batches(), 2u);

  // Two connections; the first submits and waits while the second may still submit.
  auto first = std::make_unique<CommitSibling>(*log);
  CommitSibling second(*log);
  std::atomic<int> done{0};
  log->Submit(Allowed(), Durability::kDurable, std::nullopt, [&](const Status&) { ++done; });
  first->Release();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(done.load(), 0);  // held for the second connection's record
  first->Hold();              // a standing can be taken again (keep-alive)...
  first.reset();              // ...and goes with the connection
  second.Release();           // the second connection closes without a request
  log->Drain();               // so the batch commits now
  EXPECT_EQ(done.load(), 1);
  EXPECT_EQ(log->batches(), 3u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

// A blocking Write may come from a serving thread (a lifecycle event in the middle of a
// request): it ends the delay, and takes the records queued before it along.
TEST(AuditLog, BlockingWriteIsNeverDelayed) {
  auto log = BusyLog("audit_blocking.log", std::chrono::seconds(30));
  CommitSibling other(*log);
  std::atomic<int> done{0};
  log->Submit(Allowed(), Durability::kDurable, std::nullopt, [&](const Status&) { ++done; });
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(log->Write(Allowed(), Durability::kDurable));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_EQ(done.load(), 1);
  EXPECT_EQ(log->batches(), 2u);  // one batch for both
}

TEST(AuditLog, WithoutDelayEveryRecordIsCommittedOnArrival) {
  auto log = BusyLog("audit_nodelay.log", std::chrono::microseconds(0));
  // The sequence of the first test: with no delay the record does not wait for company.
  CommitSibling other(*log);
  log->Submit(Allowed(), Durability::kDurable, std::nullopt, [](const Status&) {});
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  log->Submit(Allowed(), Durability::kDurable, std::nullopt, [](const Status&) {});
  log->Drain();
  EXPECT_EQ(log->batches(), 3u);
}

TEST(AuditLog, FileIsNotWorldReadable) {
  auto path = TempFile("audit_mode.log");
  auto log = AuditLog::Open(path, nullptr).value();
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07, 0u);
}

}  // namespace
}  // namespace provgate::audit
