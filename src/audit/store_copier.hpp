// The store's copy of the audit file. The file is the durable record; the store copy serves
// queries. Until the log is claimed for the server (and always with a copy delay of 0) each
// batch is copied in the committer's own turn, before its completions run. Once deferring,
// a copier thread copies committed batches together, at the latest `delay` after the first
// of them (or once kMaxWaiting records wait), moving the store's copy mark in each copy's
// transaction: a store transaction costs more than the fdatasync, and what a crash leaves
// uncopied is caught up from the file at the next start (CatchUp).
//
// Last-seen updates committed but not yet copied are kept in a store::SeenOverlay, so that
// serving threads see them before the store does.
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

#include "audit/committed_batch.hpp"
#include "audit/log_file.hpp"
#include "base/clock.hpp"
#include "base/result.hpp"
#include "store/seen_overlay.hpp"
#include "store/store.hpp"

namespace provgate::audit {

class StoreCopier final : public BatchSink {
 public:
  // A copy starts early once this many records wait.
  static constexpr size_t kMaxWaiting = 1024;
  // While copies fail, records wait for another try up to this many; beyond it (or when a
  // Flush or the shutdown waits) copying stops until the next server start recovers them.
  static constexpr size_t kMaxUncopied = 100'000;

  // `file`, `store`, `seen` and `clock` (which times the delay and the retries) must outlive
  // the copier. A `delay` of 0 never defers.
  StoreCopier(const LogFile& file, store::AuditStore& store, store::SeenOverlay& seen, std::chrono::milliseconds delay,
              const SteadyClock& clock);
  // Copies what is pending, then stops the thread. Call after the committer has stopped.
  ~StoreCopier() override;
  StoreCopier(const StoreCopier&) = delete;
  StoreCopier& operator=(const StoreCopier&) = delete;

  // Copies into the store the numbered records of the previous server run that a crash left
  // out (those after the store's copy mark; a file shorter than the mark was truncated and
  // is read from its start), and marks the file's end as `run`'s start. Before
  // StartDeferring, with nothing submitted concurrently.
  Status CatchUp(const std::string& run);
  // Numbered batches are copied by the copier thread from now on (with a delay above 0).
  void StartDeferring();
  // Returns once every batch up to submission `through` is copied (or given up for the
  // next start), copying early what waits.
  void Flush(std::uint64_t through);

  // BatchSink, on the committer thread.
  Status Synced(const CommittedBatch& batch) override;
  void Committed(CommittedBatch batch, bool ok) override;

  // Failed copies (each retried, or recovered from the file at the next start).
  std::uint64_t failures() const { return failures_.load(std::memory_order_relaxed); }

 private:
  bool Defers(const CommittedBatch& batch) const { return batch.numbered && delay_.count() > 0; }
  void Run();
  static CommittedBatch Merge(std::vector<CommittedBatch>& batches);
  Status Copy(const CommittedBatch& batch);
  // Writes `events`, one last-seen update per device of `seen`, and `mark` in one transaction.
  Status Append(const std::vector<store::StoredAuditEvent>& events, const std::vector<store::DeviceSeen>& seen,
                const std::optional<store::AuditCopyMark>& mark);
  bool SeenDeviceIsStill(const store::DeviceSeen& seen, const std::string& mac);

  const LogFile& file_;
  store::AuditStore& store_;
  store::SeenOverlay& seen_;
  const std::chrono::milliseconds delay_;
  const SteadyClock& clock_;
  bool suspended_ = false;  // copier thread only: a copy failed for good

  std::mutex mu_;
  std::condition_variable queued_cv_;  // the copier waits for batches
  std::condition_variable copied_cv_;  // Flush waits for the copier
  std::vector<CommittedBatch> queue_;
  size_t queued_events_ = 0;
  SteadyTimePoint queued_since_{};  // when queue_ last became non-empty
  // Batches are handed over in commit order; submissions up to copied_through_ are in the
  // store (or given up, see kMaxUncopied).
  std::uint64_t copied_through_ = 0;
  std::uint64_t wanted_through_ = 0;  // a Flush waits for this many
  bool stopping_ = false;
  std::atomic<std::uint64_t> failures_{0};
  std::thread thread_;  // started by StartDeferring
};

}  // namespace provgate::audit
