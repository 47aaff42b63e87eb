#include "audit/committer.hpp"

#include <pthread.h>

#include <algorithm>
#include <iterator>

#include <spdlog/spdlog.h>

#include "audit/record_format.hpp"

namespace provgate::audit {

Committer::Committer(LogFile& file, BatchSink* sink, CommitTiming timing, const SteadyClock& clock)
    : file_(file), sink_(sink), timing_(timing), clock_(clock), thread_([this] { Run(); }) {
  std::lock_guard lock(mu_);
  spare_records_.reserve(kMaxSpareRecords);
}

Committer::~Committer() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  queued_cv_.notify_one();
  thread_.join();
}

AuditRecord Committer::Enqueue(Entry entry) {
  AuditRecord spare;
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    // The first of its class in the queue sets (or moves earlier) the committer's deadline.
    auto& first = entry.durability == Durability::kDurable ? durable_queued_ : windowed_queued_;
    if (!first) {
      first = clock_.Now();
      wake = true;
    }
    blocking_queued_ = blocking_queued_ || entry.blocking;
    wake = wake || entry.blocking;
    queue_depth_.fetch_add(entry.records.size(), std::memory_order_relaxed);
    queue_.push_back(std::move(entry));
    ++submitted_;
    wake = wake || queue_.size() == kMaxBatch;
    if (!spare_records_.empty()) {
      spare = std::move(spare_records_.back());
      spare_records_.pop_back();
    }
  }
  // The committer waits only for an empty queue to fill, a delayed batch to fill up, its
  // deadline to move earlier, or a blocked writer.
  if (wake) queued_cv_.notify_one();
  return spare;
}

Status Committer::EnqueueAndWait(Entry entry) {
  std::mutex m;
  std::condition_variable cv;
  std::optional<Status> result;
  entry.blocking = true;
  entry.done = [&](const Status& st) {
    std::lock_guard lock(m);
    result = st;
    cv.notify_one();
  };
  Enqueue(std::move(entry));
  std::unique_lock lock(m);
  cv.wait(lock, [&] { return result.has_value(); });
  return *result;
}

void Committer::AddSiblings(int delta) {
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    siblings_ += delta;
    wake = delaying_ && siblings_ == 0;
  }
  if (wake) queued_cv_.notify_one();
}

std::uint64_t Committer::Flush() {
  std::unique_lock lock(mu_);
  const std::uint64_t target = submitted_;
  if (!queue_.empty()) {
    commit_wanted_ = true;
    queued_cv_.notify_one();
  }
  committed_cv_.wait(lock, [&] { return committed_ >= target; });
  return target;
}

void Committer::Number(std::string run, std::optional<Checkpoints> checkpoints) {
  std::lock_guard lock(mu_);
  run_ = std::move(run);
  checkpoints_ = checkpoints;
  numbered_ = true;
}

// On the committer thread, once a batch is written: its records' memory goes back to
// Enqueue, cleared, so that Enqueue hands out what a new record would be.
void Committer::Recycle(std::vector<Entry>& batch) {
  for (auto& entry : batch) {
    for (auto& record : entry.records) record.Clear();
  }
  std::lock_guard lock(mu_);
  for (auto& entry : batch) {
    for (auto& record : entry.records) {
      if (spare_records_.size() == kMaxSpareRecords) return;
      spare_records_.push_back(std::move(record));
    }
  }
}

// Takes whatever is queued as one batch: while a batch syncs, the next one gathers.
void Committer::Run() {
  pthread_setname_np(pthread_self(), "pg-audit");
  std::vector<Entry> batch;
  for (;;) {
    bool numbered = false;
    {
      std::unique_lock lock(mu_);
      const auto work = [&] { return !queue_.empty() || stopping_; };
      if (checkpoints_ && unsigned_ > 0) {
        // Unsigned records wait at most the checkpoint interval for their signature.
        if (!WaitUntil(clock_, queued_cv_, lock, unsigned_since_ + checkpoints_->every, work)) {
          lock.unlock();
          std::vector<Entry> none;
          Commit(none, true, true);
          continue;
        }
      } else {
        queued_cv_.wait(lock, work);
      }
      if (queue_.empty()) {  // stopping, and everything is committed: the tail is signed
        lock.unlock();
        if (checkpoints_ && unsigned_ > 0) {
          std::vector<Entry> none;
          Commit(none, true, true);
        }
        return;
      }
      const auto delay = timing_.commit_delay;
      for (;;) {
        if (queue_.size() >= kMaxBatch || stopping_ || blocking_queued_ || commit_wanted_) break;
        // Nobody waits for a kWindowed record: it may wait out the window. A kDurable one's
        // response waits: only in a storm, and only while the batch can still grow.
        auto deadline = SteadyTimePoint::max();
        if (windowed_queued_) deadline = *windowed_queued_ + timing_.max_unsynced;
        if (durable_queued_) {
          // A storm: the first waiting record came within the delay of the last commit.
          const bool storm = delay.count() > 0 && last_commit_ && *durable_queued_ - *last_commit_ < delay;
          if (!storm || siblings_ <= 0) break;
          deadline = std::min(deadline, *durable_queued_ + delay);
        }
        if (clock_.Now() >= deadline) break;
        delaying_ = true;
        clock_.WaitUntil(queued_cv_, lock, deadline);
        delaying_ = false;
      }
      batch.swap(queue_);
      blocking_queued_ = false;
      durable_queued_.reset();
      windowed_queued_.reset();
      commit_wanted_ = false;
      numbered = numbered_;
    }
    Commit(batch, numbered);
    batch.clear();
  }
}

std::string Committer::ChainedLine(const AuditRecord& record, bool numbered, const store::DeviceSeen* seen) {
  if (!chain_) {
    auto head = ReadChainHead(file_.key());
    if (!head) spdlog::warn("audit log {}: its new chain follows nothing: {}", file_.key(), head.error().message);
    chain_.emplace(head ? std::move(*head) : std::string());
  }
  std::string line;
  line.reserve(kLineReserve);
  const ChainPosition position = chain_->Next();
  record.AppendJson(line, numbered ? std::string_view(run_) : std::string_view(), numbered ? ++seq_ : 0, seen,
                    &position);
  chain_->Seal(line);
  if (unsigned_++ == 0) unsigned_since_ = clock_.Now();
  return line;
}

bool Committer::CheckpointDue(bool numbered) const {
  if (!numbered || !checkpoints_ || unsigned_ == 0) return false;
  return unsigned_ >= checkpoints_->every_records || clock_.Now() >= unsigned_since_ + checkpoints_->every;
}

std::optional<AuditRecord> Committer::CheckpointRecord() {
  if (!chain_ || unsigned_ == 0 || !checkpoints_) return std::nullopt;
  const std::string head(chain_->head());
  const std::string message = CheckpointMessage(chain_->id(), chain_->n() + 1, head);
  nlohmann::json detail{
      {"head", head}, {"key", checkpoints_->key->public_key_hex()}, {"signature", checkpoints_->key->SignHex(message)}};
  return InfoRecord(checkpoints_->clock->Now(), "checkpoint", "", "checkpoint", "", std::move(detail));
}

void Committer::Commit(std::vector<Entry>& batch, bool numbered, bool checkpoint) {
  std::string buffer;
  buffer.reserve((batch.size() + 1) * kLineReserve);
  CommittedBatch committed;
  committed.numbered = numbered;
  for (auto& entry : batch) {
    for (const auto& record : entry.records) {
      // The file is the record: the device's last-seen travels with the request's record
      // (the entry's last), so a copy a crash left undone can be redone from the file.
      const bool carries_seen = entry.seen && &record == &entry.records.back();
      std::string line = ChainedLine(record, numbered, carries_seen ? &*entry.seen : nullptr);
      buffer += line;
      buffer.push_back('\n');
      committed.events.push_back(StoredEvent(record, std::move(line)));
    }
    if (entry.seen) committed.seen.push_back(std::move(*entry.seen));
  }
  if (checkpoint || CheckpointDue(numbered)) {
    if (auto record = CheckpointRecord()) {
      std::string line = ChainedLine(*record, numbered, nullptr);
      unsigned_ = 0;
      buffer += line;
      buffer.push_back('\n');
      committed.events.push_back(StoredEvent(*record, std::move(line)));
    }
  }
  const auto write_started = clock_.Now();
  Status st = file_.Append(buffer);
  if (st) st = file_.Sync();
  if (!st) {
    chain_.reset();  // the next commit starts a chain after whatever reached the file
    unsigned_ = 0;
  }
  commit_seconds_.Observe(clock_.Now() - write_started);
  if (st && numbered) {
    if (const auto end = file_.EndOfLastWrite()) committed.mark = store::AuditCopyMark{file_.key(), *end, run_, seq_};
  }
  // The store copy never runs ahead of the file.
  if (st && sink_ != nullptr) st = sink_->Synced(committed);
  batches_.fetch_add(1, std::memory_order_relaxed);
  size_t records = 0;
  size_t unheard = 0;  // records whose response left without waiting for this commit
  for (auto& entry : batch) {
    records += entry.records.size();
    if (entry.done) {
      entry.done(st);
    } else {
      unheard += entry.records.size();
    }
  }
  if (!st && unheard > 0) {
    windowed_failures_.fetch_add(1, std::memory_order_relaxed);
    spdlog::error("audit log {}: {} records of answered requests are not on disk: {}", file_.key(), unheard,
                  st.error().message);
  }
  queue_depth_.fetch_sub(records, std::memory_order_relaxed);
  Recycle(batch);  // before the batch counts as committed: a Flush finds its records reusable
  // Only this thread changes committed_.
  committed.through = committed_ + batch.size();
  if (sink_ != nullptr) {
    // A failed batch goes too (without records), so that the sink counts entries in order.
    if (!st) committed = CommittedBatch{{}, {}, std::nullopt, numbered, committed.through};
    sink_->Committed(std::move(committed), st.has_value());
  }
  {
    std::lock_guard lock(mu_);
    committed_ += batch.size();
    last_commit_ = clock_.Now();
  }
  committed_cv_.notify_all();
}

}  // namespace provgate::audit
