#include "audit/audit_log.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "crypto/secret_box.hpp"
#include "store/sqlite/connection.hpp"
#include "store/sqlite/sqlite_store.hpp"

#include "audit/test_support.hpp"

namespace provgate::audit {
namespace {

using test_support::Allowed;
using test_support::JsonLine;
using test_support::TempFile;

// Counts the completions it hands out; a test waits for another thread's commits with it.
// Declared before the log whose completions it counts, so that it outlives them.
class Completions {
 public:
  Completion Callback() {
    return [this](const Status&) {
      std::lock_guard lock(mu_);
      ++count_;
      cv_.notify_all();
    };
  }
  int count() {
    std::lock_guard lock(mu_);
    return count_;
  }
  // Waits (at most 30 s of real time) until `n` have run.
  bool Await(int n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(30), [&] { return count_ >= n; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int count_ = 0;
};

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
  ASSERT_TRUE(log->Write(r, Durability::kWindowed));
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

// Submit hands back a record committed earlier, cleared, with its memory: a serving
// thread's next record allocates nothing for its strings.
TEST(AuditLog, SubmitHandsBackACommittedRecordForReuse) {
  auto log = AuditLog::Open(TempFile("audit_recycle.log"), nullptr).value();
  AuditRecord first = Allowed();
  first.user_agent = std::string(200, 'u');
  AuditRecord spare = log->Submit(std::move(first), Durability::kDurable, std::nullopt, {});
  log->Drain();
  spare = log->Submit(std::move(spare), Durability::kDurable, std::nullopt, {});
  EXPECT_EQ(JsonLine(spare), JsonLine(AuditRecord{}));
  EXPECT_GE(spare.user_agent.capacity(), 200u) << "the first record's memory came back";
  log->Drain();
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

// A log with this commit delay, timed by `clock`, that has just committed one record (idle:
// at once), so the committer counts as busy for the next batch.
std::unique_ptr<AuditLog> BusyLog(const std::string& name, std::chrono::microseconds delay,
                                  const SteadyClock& clock = SteadyClock::System()) {
  AuditOptions options;
  options.commit_delay = delay;
  auto log = AuditLog::Open(TempFile(name), nullptr, options, clock).value();
  EXPECT_TRUE(log->Write(Allowed(), Durability::kDurable));
  EXPECT_EQ(log->batches(), 1u);
  return log;
}

TEST(AuditLog, BusyCommitterDelaysABatchSoLaterRecordsShareItsSync) {
  ManualSteadyClock clock;
  Completions done;
  auto log = BusyLog("audit_delay.log", std::chrono::milliseconds(2000), clock);
  // Another connection may still submit: the next record waits for company.
  CommitSibling other(*log);
  log->Submit(Allowed(), Durability::kDurable, std::nullopt, done.Callback());
  ASSERT_TRUE(clock.AwaitWaiters(1));  // the committer waits out the delay
  clock.Advance(std::chrono::milliseconds(1999));
  EXPECT_EQ(done.count(), 0);
  log->Submit(Allowed(), Durability::kDurable, std::nullopt, done.Callback());
  log->Drain();
  EXPECT_EQ(done.count(), 2);
  EXPECT_EQ(log->batches(), 2u);  // both records in one batch, one fdatasync
}

TEST(AuditLog, DelayedBatchIsCommittedWhenTheDelayEnds) {
  ManualSteadyClock clock;
  Completions done;
  auto log = BusyLog("audit_delay_ends.log", std::chrono::milliseconds(2000), clock);
  CommitSibling other(*log);
  log->Submit(Allowed(), Durability::kDurable, std::nullopt, done.Callback());
  ASSERT_TRUE(clock.AwaitWaiters(1));
  EXPECT_EQ(done.count(), 0);
  clock.Advance(std::chrono::milliseconds(2000));
  EXPECT_TRUE(done.Await(1));  // no Drain: the delay alone ends it
  EXPECT_EQ(log->batches(), 2u);
}

// What /metrics reads: records waiting for their commit, and each batch's write and sync.
TEST(AuditLog, ReportsQueueDepthAndCommitLatencyPerBatch) {
  auto log = BusyLog("audit_depth.log", std::chrono::milliseconds(2000));
  log->Drain();  // a completion runs before its batch leaves the queue depth
  EXPECT_EQ(log->queue_depth(), 0u);
  EXPECT_EQ(log->commit_seconds().count, 1u);
  CommitSibling other(*log);  // the delayed batch waits for this connection's record
  log->Submit(Allowed(), Durability::kDurable, std::nullopt, {});
  log->Submit(std::vector<AuditRecord>{Allowed(), Allowed()}, Durability::kDurable, std::nullopt, {});
  EXPECT_EQ(log->queue_depth(), 3u);
  other.Release();
  log->Drain();
  EXPECT_EQ(log->queue_depth(), 0u);
  EXPECT_EQ(log->batches(), 2u);
  const auto latency = log->commit_seconds();
  EXPECT_EQ(latency.count, 2u);  // one observation per batch, not per record
  EXPECT_GT(latency.sum_seconds, 0.0);
}

TEST(AuditLog, CommitDelayEndsWhenNoSiblingCanAddARecord) {
  ManualSteadyClock clock;  // never advanced: nothing here waits out the delay
  Completions done;
  auto log = BusyLog("audit_siblings.log", std::chrono::seconds(30), clock);
  // Busy, but no sibling at all: committed at once.
  log->Submit(Allowed(), Durability::kDurable, std::nullopt, done.Callback());
  ASSERT_TRUE(done.Await(1));
  EXPECT_EQ(log->batches(), 2u);

  // Two connections; the first submits and waits while the second may still submit.
  auto first = std::make_unique<CommitSibling>(*log);
  CommitSibling second(*log);
  log->Submit(Allowed(), Durability::kDurable, std::nullopt, done.Callback());
  first->Release();
  ASSERT_TRUE(clock.AwaitWaiters(1));
  EXPECT_EQ(done.count(), 1);  // held for the second connection's record
  first->Hold();               // a standing can be taken again (keep-alive)...
  first.reset();               // ...and goes with the connection
  second.Release();            // the second connection closes without a request
  EXPECT_TRUE(done.Await(2));  // so the batch commits now, without a Drain
  EXPECT_EQ(log->batches(), 3u);
}

TEST(AuditLog, BlockingWriteIsNeverDelayed) {
  ManualSteadyClock clock;  // never advanced
  Completions done;
  auto log = BusyLog("audit_blocking.log", std::chrono::seconds(30), clock);
  CommitSibling other(*log);
  log->Submit(Allowed(), Durability::kDurable, std::nullopt, done.Callback());
  ASSERT_TRUE(clock.AwaitWaiters(1));  // delayed, waiting for company
  ASSERT_TRUE(log->Write(Allowed(), Durability::kDurable));
  EXPECT_EQ(done.count(), 1);
  EXPECT_EQ(log->batches(), 2u);  // one batch for both
}

TEST(AuditLog, WithoutDelayEveryRecordIsCommittedOnArrival) {
  ManualSteadyClock clock;  // never advanced
  Completions done;
  auto log = BusyLog("audit_nodelay.log", std::chrono::microseconds(0), clock);
  // The sequence of the first test: with no delay the record does not wait for company.
  CommitSibling other(*log);
  log->Submit(Allowed(), Durability::kDurable, std::nullopt, done.Callback());
  // Committed on its own although a sibling is still open: nothing waits for company.
  ASSERT_TRUE(done.Await(1));
  EXPECT_EQ(log->batches(), 2u);
  log->Submit(Allowed(), Durability::kDurable, std::nullopt, [](const Status&) {});
  log->Drain();
  EXPECT_EQ(log->batches(), 3u);
}

// The server's log with a store behind it.
class ServerLog : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("auditlog_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    std::array<unsigned char, crypto::SecretBox::kKeySize> key{};
    key.fill(3);
    store_ = store::SqliteStore::Open(dir_ / "p.db", crypto::SecretBox::FromKey(key), clock_).value();
    path_ = std::filesystem::weakly_canonical(dir_ / "audit.log");
  }
  // A log whose delays steady_ times.
  std::unique_ptr<AuditLog> Open(std::chrono::milliseconds copy_delay) {
    AuditOptions options;
    options.store_copy_delay = copy_delay;
    return AuditLog::Open(path_, store_.get(), options, steady_).value();
  }
  static AuditRecord Numbered(int n) {
    AuditRecord r = Allowed();
    r.reason = "n" + std::to_string(n);
    return r;
  }
  // The server's form of a record: with its run and sequence number.
  static std::string ServerLine(int n, const std::string& run, int seq) {
    std::string line;
    Numbered(n).AppendJson(line, run, seq);
    return line;
  }
  std::vector<std::string> StoredJson() {
    std::vector<std::string> out;
    for (const auto& e : store_->ListAudit("", 1'000'000).value()) out.insert(out.begin(), e.json);
    return out;
  }
  std::vector<std::string> StoredReasons() {
    std::vector<std::string> out;
    for (const auto& j : StoredJson()) out.push_back(nlohmann::json::parse(j)["reason"]);
    return out;
  }
  std::vector<std::string> FileLines() {
    std::ifstream in(path_);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }
  std::int64_t FileSize() { return static_cast<std::int64_t>(std::filesystem::file_size(path_)); }
  // A provisioned device of tenant "acme", which the first call adds.
  core::Device AddDevice(const std::string& mac) {
    if (!tenant_id_) {
      core::Tenant t;
      t.name = "acme";
      tenant_id_ = store_->AddTenant(t).value().id;
    }
    core::Device d;
    d.mac = core::MacAddress::Parse(mac).value();
    d.vendor = "yealink";
    d.model = "T54W";
    d.tenant_id = tenant_id_;
    d.state = core::DeviceState::kProvisioned;
    return store_->AddDevice(d).value();
  }
  store::AuditCopyMark Mark() { return store_->FindAuditCopyMark(path_.string()).value().value(); }
  void Append(const std::string& text) {
    std::ofstream out(path_, std::ios::app | std::ios::binary);
    out << text;
  }
  // The store refuses audit rows while `refuse` (a trigger, set through another connection).
  void RefuseAudit(bool refuse) {
    auto raw = store::sqlite::Connection::Open(dir_ / "p.db").value();
    ASSERT_TRUE(raw.Exec("PRAGMA busy_timeout = 5000"));  // the copier may hold the write lock
    ASSERT_TRUE(raw.Exec(refuse ? "CREATE TRIGGER test_refuse BEFORE INSERT ON audit "
                                  "BEGIN SELECT RAISE(ABORT, 'test: store refuses'); END"
                                : "DROP TRIGGER test_refuse"));
  }
  // Waits (at most 30 s of real time) for the copier thread to make `done` true.
  template <typename Predicate>
  static bool Eventually(Predicate done) {
    for (int i = 0; i < 30'000 && !done(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return done();
  }
  bool WaitForStored(size_t n) {
    return Eventually([&] { return StoredJson().size() >= n; });
  }

  ManualClock clock_{FromUnix(1700000000)};
  ManualSteadyClock steady_;
  std::filesystem::path dir_;
  std::filesystem::path path_;
  std::unique_ptr<store::SqliteStore> store_;
  std::optional<std::int64_t> tenant_id_;
};

TEST_F(ServerLog, UnclaimedLogCopiesEachCommitBeforeItsCompletion) {
  auto log = Open(std::chrono::seconds(60));
  std::atomic<size_t> stored_at_completion{0};
  log->Submit(Numbered(1), Durability::kDurable, std::nullopt,
              [&](const Status&) { stored_at_completion = StoredJson().size(); });
  log->Drain();
  EXPECT_EQ(stored_at_completion.load(), 1u);
  EXPECT_EQ(ParseStoredLine(FileLines().at(0))->run, "");  // other processes' records have none
  // The first claim, with records already in the file, marks its end: they are all copied.
  ASSERT_TRUE(log->ClaimForServer());
  EXPECT_EQ(Mark().offset, FileSize());
  EXPECT_GT(FileSize(), 0);
}

TEST_F(ServerLog, ClaimedLogCopiesLaterAndKeepsTheMark) {
  Completions done;
  auto log = Open(std::chrono::seconds(60));
  ASSERT_TRUE(log->ClaimForServer());
  // The first claim marks the file's end: nothing was left to copy.
  const auto first = Mark();
  EXPECT_EQ(first.offset, 0);
  EXPECT_EQ(first.seq, 0);
  EXPECT_EQ(first.run.size(), 16u);
  for (int i = 0; i < 3; ++i) log->Submit(Numbered(i), Durability::kDurable, std::nullopt, done.Callback());
  ASSERT_TRUE(done.Await(3));
  const auto lines = FileLines();
  ASSERT_EQ(lines.size(), 3u);        // durable before the completions ran
  EXPECT_TRUE(StoredJson().empty());  // the copy waits for its delay
  for (size_t i = 0; i < lines.size(); ++i) {
    const auto parsed = ParseStoredLine(lines[i]).value();
    EXPECT_EQ(parsed.run, first.run);
    EXPECT_EQ(parsed.seq, static_cast<std::int64_t>(i) + 1);
  }
  log->Drain();  // or for a Drain
  EXPECT_EQ(StoredJson(), lines);
  EXPECT_EQ(Mark().offset, FileSize());
  EXPECT_EQ(Mark().seq, 3);
}

TEST_F(ServerLog, ClaimedLogCopiesOnceItsDelayIsDue) {
  auto log = Open(std::chrono::milliseconds(20));
  ASSERT_TRUE(log->ClaimForServer());
  ASSERT_TRUE(log->Write(Numbered(1), Durability::kDurable));
  ASSERT_TRUE(steady_.AwaitWaiters(1));  // the copier waits out its delay
  steady_.Advance(std::chrono::milliseconds(19));
  EXPECT_TRUE(StoredJson().empty());
  steady_.Advance(std::chrono::milliseconds(1));
  ASSERT_TRUE(WaitForStored(1));  // without a Drain
  EXPECT_EQ(StoredJson(), FileLines());
}

TEST_F(ServerLog, DestructorCopiesWhatIsPending) {
  {
    auto log = Open(std::chrono::seconds(60));
    ASSERT_TRUE(log->ClaimForServer());
    for (int i = 0; i < 50; ++i) log->Submit(Numbered(i), Durability::kDurable, std::nullopt, {});
  }
  EXPECT_EQ(StoredJson().size(), 50u);
  EXPECT_EQ(StoredJson(), FileLines());
  EXPECT_EQ(Mark().offset, FileSize());
}

TEST_F(ServerLog, UncopiedLastSeenIsOverlaidOnTheStoredDevice) {
  const core::Device d = AddDevice("001565aabbcc");
  auto log = Open(std::chrono::seconds(60));
  ASSERT_TRUE(log->ClaimForServer());
  const std::int64_t now = ToUnix(std::chrono::system_clock::now());
  // In place before the completion runs: the device's next request may follow at once.
  std::optional<std::string> seen_at_completion, other_at_completion;
  bool other_not_copied = false;
  bool one_copy_shared = false;
  log->Submit(Numbered(1), Durability::kDurable,
              store::DeviceSeen{d.id, now, "192.0.2.7", "Yealink SIP-T54W 96.86.0.100", "96.86.0.100"},
              [&](const Status&) {
                const auto dev = std::make_shared<const core::Device>(store_->FindDevice(d.mac).value());
                auto other_device = *dev;
                other_device.id += 1;
                const auto other = std::make_shared<const core::Device>(other_device);
                const auto overlaid = log->uncopied_seen().Apply(dev);
                seen_at_completion = overlaid->last_seen_ip;
                one_copy_shared = log->uncopied_seen().Apply(dev) == overlaid;  // the next request's
                const auto other_seen = log->uncopied_seen().Apply(other);
                other_at_completion = other_seen->last_seen_ip;
                other_not_copied = other_seen == other;
              });
  log->Drain();
  EXPECT_EQ(seen_at_completion, "192.0.2.7");
  EXPECT_EQ(other_at_completion, "");  // another device: untouched, and not copied
  EXPECT_TRUE(other_not_copied);
  EXPECT_TRUE(one_copy_shared);
  EXPECT_EQ(store_->FindDevice(d.mac).value().last_seen_ip, "192.0.2.7");  // copied by the Drain
  auto stale_read = store_->FindDevice(d.mac).value();
  stale_read.last_seen_ip = "read before the copy";
  // Kept a while after its copy.
  const auto stale = log->uncopied_seen().Apply(std::make_shared<const core::Device>(stale_read));
  EXPECT_EQ(stale->last_seen_ip, "192.0.2.7");
  EXPECT_EQ(stale->last_seen_at, now);
  // A device that already says so is handed back as it is, not copied.
  const auto current = std::make_shared<const core::Device>(store_->FindDevice(d.mac).value());
  EXPECT_EQ(log->uncopied_seen().Apply(current), current);
  // The file carries the update with the request's record.
  const auto line = ParseStoredLine(FileLines().back()).value();
  ASSERT_TRUE(line.seen);
  EXPECT_EQ(line.seen->device_id, d.id);
  EXPECT_EQ(line.seen->ip, "192.0.2.7");
  EXPECT_EQ(line.seen->firmware, "96.86.0.100");
}

// A device that fetched many times before a copy costs the copy one row update, and ends as
// the updates one by one would leave it: the last address, the last firmware its phone named.
TEST_F(ServerLog, CopyWritesADevicesLastSeenOncePerBatch) {
  const core::Device d = AddDevice("001565aabbcc");
  const core::Device other = AddDevice("001565aabbdd");
  {
    auto raw = store::sqlite::Connection::Open(dir_ / "p.db").value();
    ASSERT_TRUE(raw.Exec("CREATE TABLE test_seen_updates(device_id INTEGER)"));
    ASSERT_TRUE(
        raw.Exec("CREATE TRIGGER test_count_seen AFTER UPDATE OF last_seen_at ON devices "
                 "BEGIN INSERT INTO test_seen_updates VALUES (new.id); END"));
  }
  auto log = Open(std::chrono::seconds(60));
  ASSERT_TRUE(log->ClaimForServer());
  const std::int64_t now = ToUnix(std::chrono::system_clock::now());
  for (int i = 0; i < 100; ++i) {
    // The phone names its firmware only in some requests (a User-Agent without a version).
    const std::string firmware = i == 40 ? "96.86.0.120" : "";
    log->Submit(Numbered(i), Durability::kDurable,
                store::DeviceSeen{d.id, now + i, "192.0.2." + std::to_string(i), "Yealink SIP-T54W", firmware}, {});
    if (i == 50) {
      log->Submit(Numbered(1000), Durability::kDurable,
                  store::DeviceSeen{other.id, now, "198.51.100.1", "Yealink SIP-T54W", ""}, {});
    }
  }
  log->Drain();
  auto raw = store::sqlite::Connection::Open(dir_ / "p.db").value();
  auto count = raw.Prepare("SELECT count(*) FROM test_seen_updates WHERE device_id = ?1").value();
  count.BindInt(1, d.id);
  ASSERT_TRUE(count.Step().value());
  EXPECT_EQ(count.Int(0), 1);
  const auto got = store_->FindDevice(d.mac).value();
  EXPECT_EQ(got.last_seen_at, now + 99);
  EXPECT_EQ(got.last_seen_ip, "192.0.2.99");
  EXPECT_EQ(got.firmware, "96.86.0.120");
  EXPECT_EQ(store_->FindDevice(other.mac).value().last_seen_ip, "198.51.100.1");
  EXPECT_EQ(StoredJson().size(), 101u);
}

// A crash between the commit and the copy loses no last-seen update: the next start replays
// the ones the file's uncopied records carry, with the records.
TEST_F(ServerLog, ClaimReplaysTheLastSeenACrashLeftOut) {
  const core::Device d = AddDevice("001565aabbcc");
  const core::Device other = AddDevice("001565aabbdd");
  {
    auto log = Open(std::chrono::seconds(60));
    ASSERT_TRUE(log->ClaimForServer());
  }
  const auto mark = Mark();
  const auto line = [&](int n, const std::string& run, int seq, std::int64_t id, const std::string& ip) {
    auto j = nlohmann::json::parse(ServerLine(n, run, seq));
    j["device"] = d.mac.str();
    j["seen"] = {{"device_id", id},
                 {"time", 1700000100 + n},
                 {"ip", ip},
                 {"user_agent", "Yealink SIP-T54W 96.86.0.120"},
                 {"firmware", "96.86.0.120"}};
    return j.dump() + "\n";
  };
  Append(line(1, mark.run, 1, d.id, "198.51.100.4"));
  Append(line(2, "another run", 2, d.id, "203.0.113.9"));  // not this run's: not replayed
  Append(line(3, mark.run, 3, other.id, "203.0.113.10"));  // the id is another device's now
  EXPECT_FALSE(store_->FindDevice(d.mac).value().last_seen_at);
  {
    auto log = Open(std::chrono::seconds(60));
    ASSERT_TRUE(log->ClaimForServer());
  }
  const auto got = store_->FindDevice(d.mac).value();
  EXPECT_EQ(got.last_seen_at, 1700000101);
  EXPECT_EQ(got.last_seen_ip, "198.51.100.4");
  EXPECT_EQ(got.firmware, "96.86.0.120");
  EXPECT_FALSE(store_->FindDevice(other.mac).value().last_seen_at);
  EXPECT_EQ(StoredReasons(), (std::vector<std::string>{"n1", "n3"}));
}

TEST_F(ServerLog, OneServerPerAuditFile) {
  auto first = Open(std::chrono::seconds(60));
  ASSERT_TRUE(first->ClaimForServer());
  auto second = Open(std::chrono::seconds(60));
  auto st = second->ClaimForServer();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(st.error().message.find("another provgate server"), std::string::npos);
  ASSERT_TRUE(second->Write(Numbered(1), Durability::kDurable));  // a CLI may still append
  first.reset();
  EXPECT_TRUE(second->ClaimForServer());  // the lock goes with the server
}

// What a crash leaves after the mark: the server's uncopied records, mixed with records
// other processes wrote and copied themselves, and a line cut short.
TEST_F(ServerLog, ClaimCopiesWhatACrashLeftOutExactlyOnce) {
  {
    auto log = Open(std::chrono::seconds(60));
    ASSERT_TRUE(log->ClaimForServer());
    ASSERT_TRUE(log->Write(Numbered(0), Durability::kDurable));
  }  // copied at close
  const auto mark = Mark();
  ASSERT_EQ(mark.offset, FileSize());
  ASSERT_EQ(mark.seq, 1);
  Append(ServerLine(2, mark.run, 2) + "\n");  // the server's, lost
  {
    auto cli = Open(std::chrono::seconds(0));  // another process: writes and copies at once
    ASSERT_TRUE(cli->Write(Numbered(5), Durability::kDurable));
  }
  Append(ServerLine(0, mark.run, 1) + "\n");  // at or before the mark: already stored
  Append(ServerLine(7, "another run", 9) + "\nnot a record\n");
  Append(ServerLine(3, mark.run, 3) + "\n" + ServerLine(4, mark.run, 4).substr(0, 30));  // cut
  ASSERT_EQ(StoredReasons(), (std::vector<std::string>{"n0", "n5"}));
  {
    auto log = Open(std::chrono::seconds(60));
    ASSERT_TRUE(log->ClaimForServer());
    EXPECT_EQ(Mark().offset, FileSize());  // the cut line was ended, and read past
    EXPECT_NE(Mark().run, mark.run);
    ASSERT_TRUE(log->Write(Numbered(8), Durability::kDurable));
  }
  EXPECT_EQ(StoredReasons(), (std::vector<std::string>{"n0", "n5", "n2", "n3", "n8"}));
  auto last = ParseStoredLine(FileLines().back());  // not glued to the cut line
  ASSERT_TRUE(last);
  EXPECT_EQ(last->seq, 1);
  {
    auto log = Open(std::chrono::seconds(60));
    ASSERT_TRUE(log->ClaimForServer());  // nothing left to copy
  }
  EXPECT_EQ(StoredJson().size(), 5u);
}

TEST_F(ServerLog, TruncatedFileIsReadFromItsStart) {
  std::string run;
  {
    auto log = Open(std::chrono::seconds(60));
    ASSERT_TRUE(log->ClaimForServer());
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(log->Write(Numbered(i), Durability::kDurable));
    run = Mark().run;
  }
  std::filesystem::resize_file(path_, 0);  // logrotate's copytruncate, then the crash's loss
  Append(ServerLine(6, run, 6) + "\n");    // shorter than the mark
  {
    auto log = Open(std::chrono::seconds(60));
    ASSERT_TRUE(log->ClaimForServer());
  }
  EXPECT_EQ(StoredReasons(), (std::vector<std::string>{"n0", "n1", "n2", "n3", "n4", "n6"}));
}

TEST_F(ServerLog, FailedCopyIsTriedAgain) {
  auto log = Open(std::chrono::milliseconds(10));
  ASSERT_TRUE(log->ClaimForServer());
  RefuseAudit(true);
  ASSERT_TRUE(log->Write(Numbered(1), Durability::kDurable));  // the file commit is unaffected
  ASSERT_TRUE(steady_.AwaitWaiters(1));
  steady_.Advance(std::chrono::milliseconds(10));  // the copy is due, and fails
  ASSERT_TRUE(Eventually([&] { return log->store_copy_failures() >= 1; }));
  ASSERT_TRUE(steady_.AwaitWaiters(1));  // waiting to try again
  EXPECT_TRUE(StoredJson().empty());
  RefuseAudit(false);
  steady_.Advance(std::chrono::seconds(1));  // a retry waits at least a second
  ASSERT_TRUE(WaitForStored(1));
  EXPECT_EQ(StoredJson(), FileLines());
  EXPECT_EQ(log->store_copy_failures(), 1u);
}

TEST_F(ServerLog, CopyThatFailsWhileADrainWaitsIsLeftToTheNextStart) {
  {
    auto log = Open(std::chrono::seconds(60));
    ASSERT_TRUE(log->ClaimForServer());
    RefuseAudit(true);
    ASSERT_TRUE(log->Write(Numbered(1), Durability::kDurable));
    EXPECT_EQ(log->store_copy_failures(), 0u);
    log->Drain();  // returns: the copy is given up, not retried forever
    EXPECT_EQ(log->store_copy_failures(), 1u);
    ASSERT_TRUE(log->Write(Numbered(2), Durability::kDurable));
    log->Drain();
    EXPECT_TRUE(StoredJson().empty());
    RefuseAudit(false);
  }
  EXPECT_TRUE(StoredJson().empty());  // suspended until the next start...
  {
    auto log = Open(std::chrono::seconds(60));
    ASSERT_TRUE(log->ClaimForServer());  // ...which copies both from the file
  }
  EXPECT_EQ(StoredReasons(), (std::vector<std::string>{"n1", "n2"}));
}

TEST(AuditLog, WindowedRecordWaitsForTheWindowOrTheNextDurableRecordInOrder) {
  const auto path = TempFile("audit_windowed.log");
  ManualSteadyClock clock;
  AuditOptions options;
  options.max_unsynced = std::chrono::seconds(30);
  auto log = AuditLog::Open(path, nullptr, options, clock).value();
  AuditRecord windowed = Allowed();
  windowed.reason = "refusal first";
  log->Submit(windowed, Durability::kWindowed, std::nullopt, {});
  ASSERT_TRUE(clock.AwaitWaiters(1));  // the committer waits for the window to end
  clock.Advance(std::chrono::seconds(29));
  EXPECT_EQ(log->batches(), 0u);  // not synced alone before its window ends
  AuditRecord durable = Allowed();
  durable.reason = "secret second";
  ASSERT_TRUE(log->Write(durable, Durability::kDurable));  // not the window's end
  EXPECT_EQ(log->batches(), 1u);
  const auto lines = ReadLines(path);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["reason"], "refusal first");
  EXPECT_EQ(lines[1]["reason"], "secret second");
}

TEST(AuditLog, WindowedRecordIsSyncedWhenItsWindowEnds) {
  const auto path = TempFile("audit_window_ends.log");
  ManualSteadyClock clock;
  Completions done;
  AuditOptions options;
  options.max_unsynced = std::chrono::milliseconds(20);
  auto log = AuditLog::Open(path, nullptr, options, clock).value();
  log->Submit(Allowed(), Durability::kWindowed, std::nullopt, done.Callback());
  ASSERT_TRUE(clock.AwaitWaiters(1));
  EXPECT_EQ(log->batches(), 0u);
  // Nothing else comes and nobody drains: the window alone ends it.
  clock.Advance(std::chrono::milliseconds(20));
  ASSERT_TRUE(done.Await(1));
  EXPECT_EQ(log->batches(), 1u);
  EXPECT_EQ(ReadLines(path).size(), 1u);
}

TEST(AuditLog, DrainDoesNotWaitOutTheWindow) {
  ManualSteadyClock clock;  // never advanced
  AuditOptions options;
  options.max_unsynced = std::chrono::seconds(30);
  auto log = AuditLog::Open(TempFile("audit_window_drain.log"), nullptr, options, clock).value();
  log->Submit(Allowed(), Durability::kWindowed, std::nullopt, {});
  log->Drain();
  EXPECT_EQ(log->batches(), 1u);
}

// A response that did not wait cannot be refused any more: the failure is counted (and
// logged) instead of reaching a completion.
TEST(AuditLog, FailedWindowedCommitIsCounted) {
  AuditOptions options;
  options.max_unsynced = std::chrono::milliseconds(0);
  auto full = AuditLog::Open("/dev/full", nullptr, options).value();
  full->Submit(Allowed(), Durability::kWindowed, std::nullopt, {});
  full->Drain();
  EXPECT_EQ(full->windowed_failures(), 1u);
  std::atomic<int> failed{0};
  full->Submit(Allowed(), Durability::kDurable, std::nullopt, [&](const Status& st) {
    if (!st) ++failed;
  });
  full->Drain();
  EXPECT_EQ(failed.load(), 1);
  EXPECT_EQ(full->windowed_failures(), 1u);  // a failure someone heard is not counted here
}

// Records wait for the disk in memory; past a bound, every response waits for its own.
TEST(AuditLog, ReportsBacklogWhenTooManyRecordsWait) {
  AuditOptions options;
  options.max_unsynced = std::chrono::seconds(30);
  auto log = AuditLog::Open(TempFile("audit_backlog.log"), nullptr, options).value();
  EXPECT_FALSE(log->backlogged());
  // A vector of records is one entry: the batch bound (kMaxBatch entries) does not end the wait.
  std::vector<AuditRecord> many(20000, Allowed());
  log->Submit(std::move(many), Durability::kWindowed, std::nullopt, {});
  EXPECT_TRUE(log->backlogged());
  log->Drain();
  EXPECT_FALSE(log->backlogged());
}

}  // namespace
}  // namespace provgate::audit
