// Group commit: one thread writes what every serving thread submits, in submission order.
// All records queued while it syncs share the next write and fdatasync, so the number of
// syncs follows the disk's pace rather than the request rate. Under a storm the commit
// delay lets each batch gather a little longer, as long as some open connection may still
// add to it (commit siblings). Each synced batch goes to a BatchSink (the store copy).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/container/small_vector.hpp>

#include "audit/chain.hpp"
#include "audit/committed_batch.hpp"
#include "audit/log_file.hpp"
#include "audit/record.hpp"
#include "base/clock.hpp"
#include "base/result.hpp"
#include "crypto/signing_key.hpp"
#include "metrics/histogram.hpp"
#include "store/store.hpp"

namespace provgate::audit {

// One submission: records committed together, in this order.
struct Entry {
  // A request's one record lives in the entry itself: submitting it allocates nothing.
  boost::container::small_vector<AuditRecord, 1> records;
  Durability durability = Durability::kDurable;
  bool blocking = false;  // a thread waits for it (EnqueueAndWait): never delayed
  // The last-seen update of the device the request answered, written with its last record.
  std::optional<store::DeviceSeen> seen;
  Completion done;  // may be empty
};

struct CommitTiming {
  // See AuditOptions::commit_delay and AuditOptions::max_unsynced.
  std::chrono::microseconds commit_delay{0};
  std::chrono::milliseconds max_unsynced{0};
};

// Signed checkpoints of the server's chain (AuditOptions::checkpoint_records and
// checkpoint_interval): a checkpoint record follows the batch that brings the records since
// the last one to `every_records`, or comes on its own `every` after the first of them, and
// once more when the committer stops.
struct Checkpoints {
  const crypto::SigningKey* key = nullptr;  // must outlive the committer
  const Clock* clock = nullptr;             // the checkpoint records' time; must outlive it
  std::int64_t every_records = 1000;
  std::chrono::seconds every{60};
};

class Committer {
 public:
  // A batch never grows beyond this many submissions while the committer delays.
  static constexpr size_t kMaxBatch = 1024;
  // See backlogged().
  static constexpr size_t kMaxQueuedRecords = 16 * kMaxBatch;

  // Starts the committer thread. `file`, `sink` (null: nothing after the sync) and `clock`
  // (which times the delays) must outlive it.
  Committer(LogFile& file, BatchSink* sink, CommitTiming timing, const SteadyClock& clock);
  // Commits everything queued, then stops the thread.
  ~Committer();
  Committer(const Committer&) = delete;
  Committer& operator=(const Committer&) = delete;

  // Thread-safe and never blocks on I/O. `entry.done`, if set, must be cheap and must not
  // call back into the committer: it runs on the committer thread. Returns a record
  // committed earlier, cleared, whose strings keep their memory (or a new one).
  AuditRecord Enqueue(Entry entry);
  // Thread-safe: queues the entry as one a thread waits for and returns its commit status.
  Status EnqueueAndWait(Entry entry);
  // Commit siblings held (+1) or released (-1); see CommitSibling.
  void AddSiblings(int delta);
  // Commits what is queued without delay and returns once every submission queued before
  // the call is committed, with their number: what BatchSink batches count up to.
  std::uint64_t Flush();
  // From now on each record carries `run` and a sequence number (from 1), and, with
  // `checkpoints`, the chain is signed. Call only while nothing is submitted concurrently.
  void Number(std::string run, std::optional<Checkpoints> checkpoints = std::nullopt);

  std::uint64_t batches() const { return batches_.load(std::memory_order_relaxed); }
  metrics::Histogram::Reading commit_seconds() const { return commit_seconds_.Read(); }
  std::uint64_t queue_depth() const { return queue_depth_.load(std::memory_order_relaxed); }
  bool backlogged() const { return queue_depth() >= kMaxQueuedRecords; }
  std::uint64_t windowed_failures() const { return windowed_failures_.load(std::memory_order_relaxed); }

 private:
  void Run();
  // `checkpoint`: a checkpoint record follows the batch's records even if none is due.
  void Commit(std::vector<Entry>& batch, bool numbered, bool checkpoint = false);
  // The line of `record`, sealed into the chain (started first if need be).
  std::string ChainedLine(const AuditRecord& record, bool numbered, const store::DeviceSeen* seen);
  // A checkpoint record signing the chain's head, if the chain has unsigned records.
  std::optional<AuditRecord> CheckpointRecord();
  bool CheckpointDue(bool numbered) const;
  void Recycle(std::vector<Entry>& batch);

  // Room a line usually needs (a request record is 400-600 bytes), so it is allocated once.
  static constexpr size_t kLineReserve = 640;
  // Committed records kept, cleared, for Enqueue to hand out again (about the requests in
  // flight at once; more are freed).
  static constexpr size_t kMaxSpareRecords = 256;

  LogFile& file_;
  BatchSink* const sink_;
  const CommitTiming timing_;
  const SteadyClock& clock_;
  std::string run_;       // set by Number before numbered_
  std::int64_t seq_ = 0;  // committer thread only: the last sequence number written
  // Committer thread only: this writer's chain, started at the first commit and again after
  // a failed one (whose records may or may not be in the file); records since its last
  // checkpoint, and when the first of them was written.
  std::optional<ChainWriter> chain_;
  std::int64_t unsigned_ = 0;
  SteadyTimePoint unsigned_since_{};
  std::optional<Checkpoints> checkpoints_;  // set by Number

  std::mutex mu_;
  std::condition_variable queued_cv_;     // the committer waits for work
  std::condition_variable committed_cv_;  // Flush waits for the committer
  std::vector<Entry> queue_;
  std::vector<AuditRecord> spare_records_;  // capacity kMaxSpareRecords, reserved once
  std::uint64_t submitted_ = 0;             // entries queued so far
  std::uint64_t committed_ = 0;             // entries whose completion has run
  bool numbered_ = false;
  std::optional<SteadyTimePoint> last_commit_;  // when the last batch was committed
  bool stopping_ = false;
  std::int64_t siblings_ = 0;     // CommitSibling standings held
  bool delaying_ = false;         // the committer is waiting out the commit delay
  bool blocking_queued_ = false;  // the queue holds an entry a thread waits for
  // When the first kDurable (kWindowed) entry in the queue was queued, if one is.
  std::optional<SteadyTimePoint> durable_queued_;
  std::optional<SteadyTimePoint> windowed_queued_;
  bool commit_wanted_ = false;  // a Flush waits: commit what is queued at once
  std::atomic<std::uint64_t> batches_{0};
  metrics::Histogram commit_seconds_;
  std::atomic<std::uint64_t> queue_depth_{0};
  std::atomic<std::uint64_t> windowed_failures_{0};
  std::thread thread_;  // last: started when everything above exists
};

}  // namespace provgate::audit
