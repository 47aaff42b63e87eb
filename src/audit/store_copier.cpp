#include "audit/store_copier.hpp"

#include <pthread.h>

#include <algorithm>
#include <iterator>

#include <spdlog/spdlog.h>

#include "audit/record_format.hpp"
#include "core/mac_address.hpp"

namespace provgate::audit {

StoreCopier::StoreCopier(const LogFile& file, store::AuditStore& store, store::SeenOverlay& seen,
                         std::chrono::milliseconds delay, const SteadyClock& clock)
    : file_(file), store_(store), seen_(seen), delay_(delay), clock_(clock) {}

StoreCopier::~StoreCopier() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  queued_cv_.notify_one();
  thread_.join();
}

// A device id may have been reused while the server was down (a device removed, another
// added): a replayed last-seen update goes only to a device that still has the record's MAC.
bool StoreCopier::SeenDeviceIsStill(const store::DeviceSeen& seen, const std::string& mac) {
  const auto parsed = core::MacAddress::Parse(mac);
  if (!parsed) return false;
  const auto device = store_.FindDevice(*parsed);
  return device && device->id == seen.device_id;
}

// The previous run's records are told apart from other processes' by their run id, and its
// sequence numbers say which ones the store has.
Status StoreCopier::CatchUp(const std::string& run) {
  PG_TRY(const std::int64_t size, file_.Size());
  PG_TRY(auto mark, store_.FindAuditCopyMark(file_.key()));
  // Without a mark every record so far was copied before it was answered (the first start
  // with marks).
  const std::int64_t from = !mark ? size : mark->offset <= size ? mark->offset : 0;
  std::vector<store::StoredAuditEvent> missing;
  std::vector<store::DeviceSeen> seen;
  std::int64_t end = from;
  if (mark) {
    PG_TRY(end, file_.ScanLines(from, size, [&](std::string_view text) {
      auto line = ParseStoredLine(text);
      if (line && line->run == mark->run && line->seq > mark->seq) {
        if (line->seen && SeenDeviceIsStill(*line->seen, line->event.mac)) seen.push_back(std::move(*line->seen));
        missing.push_back(std::move(line->event));
      }
    }));
    if (!missing.empty()) {
      spdlog::warn("audit log {}: copying {} records into the store that an unclean stop left out", file_.key(),
                   missing.size());
    }
  }
  // This run starts after everything read here; its first record is number 1.
  return Append(missing, seen, store::AuditCopyMark{file_.key(), end, run, 0});
}

void StoreCopier::StartDeferring() {
  if (delay_.count() > 0) thread_ = std::thread([this] { Run(); });
}

void StoreCopier::Flush(std::uint64_t through) {
  std::unique_lock lock(mu_);
  wanted_through_ = std::max(wanted_through_, through);
  queued_cv_.notify_one();
  copied_cv_.wait(lock, [&] { return copied_through_ >= through; });
}

Status StoreCopier::Synced(const CommittedBatch& batch) {
  if (Defers(batch)) {
    // Before the completions: the device's next request may come the moment its answer
    // leaves. (Only kDurable records carry a last-seen update: a device's own files.)
    if (!batch.seen.empty()) seen_.Committed(batch.seen);
    return Ok();
  }
  Status st = Append(batch.events, batch.seen, batch.mark);
  if (!st) failures_.fetch_add(1, std::memory_order_relaxed);
  return st;
}

void StoreCopier::Committed(CommittedBatch batch, bool ok) {
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    if (!Defers(batch)) {
      copied_through_ = batch.through;
    } else {
      if (queue_.empty()) queued_since_ = clock_.Now();
      if (ok) queued_events_ += batch.events.size();
      queue_.push_back(std::move(batch));
      wake = queue_.size() == 1 || queued_events_ >= kMaxWaiting || wanted_through_ > copied_through_;
    }
  }
  copied_cv_.notify_all();
  if (wake) queued_cv_.notify_one();
}

// Copies what the committer hands over, once the oldest of it is `delay` old, earlier when
// kMaxWaiting records wait or a Flush or the shutdown waits.
void StoreCopier::Run() {
  pthread_setname_np(pthread_self(), "pg-audit-copy");
  std::vector<CommittedBatch> batches;
  for (;;) {
    bool must_finish = false;
    {
      std::unique_lock lock(mu_);
      queued_cv_.wait(lock, [&] { return !queue_.empty() || stopping_; });
      if (queue_.empty()) return;  // stopping, and everything is copied
      WaitUntil(clock_, queued_cv_, lock, queued_since_ + delay_,
                [&] { return stopping_ || queued_events_ >= kMaxWaiting || wanted_through_ > copied_through_; });
      batches.swap(queue_);
      queued_events_ = 0;
      must_finish = stopping_ || wanted_through_ > copied_through_;
    }
    CommittedBatch all = Merge(batches);
    batches.clear();
    const Status st = suspended_ ? Ok() : Copy(all);
    if (!st) {
      failures_.fetch_add(1, std::memory_order_relaxed);
      const size_t waiting = all.events.size();
      if (!must_finish && waiting < kMaxUncopied) {
        spdlog::warn("audit log {}: copying {} records into the store failed ({}); retrying", file_.key(), waiting,
                     st.error().message);
        std::unique_lock lock(mu_);
        // Back in front of what came meanwhile, tried again after another delay.
        queued_events_ += waiting;
        queue_.insert(queue_.begin(), std::move(all));
        queued_since_ = clock_.Now();
        const auto retry = std::max<std::chrono::steady_clock::duration>(delay_, std::chrono::seconds(1));
        WaitUntil(clock_, queued_cv_, lock, queued_since_ + retry,
                  [&] { return stopping_ || wanted_through_ > copied_through_; });
        continue;
      }
      // Their mark stays in the store, so the next server start copies them from the file.
      suspended_ = true;
      spdlog::error(
          "audit log {}: copying {} records into the store failed ({}); the store copy "
          "stops until the next server start, which copies them from the file",
          file_.key(), waiting, st.error().message);
    }
    {
      std::lock_guard lock(mu_);
      copied_through_ = all.through;
    }
    copied_cv_.notify_all();
  }
}

// The batches as one, in order: their records, the last mark, the last submission count.
CommittedBatch StoreCopier::Merge(std::vector<CommittedBatch>& batches) {
  CommittedBatch all;
  for (auto& b : batches) {
    std::move(b.events.begin(), b.events.end(), std::back_inserter(all.events));
    std::move(b.seen.begin(), b.seen.end(), std::back_inserter(all.seen));
    if (b.mark) all.mark = std::move(b.mark);
    all.numbered = all.numbered || b.numbered;
    all.through = b.through;
  }
  return all;
}

Status StoreCopier::Copy(const CommittedBatch& batch) {
  PG_TRY_STATUS(Append(batch.events, batch.seen, batch.mark));
  seen_.Copied(batch.seen);
  return Ok();
}

Status StoreCopier::Append(const std::vector<store::StoredAuditEvent>& events,
                           const std::vector<store::DeviceSeen>& seen,
                           const std::optional<store::AuditCopyMark>& mark) {
  return store_.AppendAuditBatch(events, store::CoalesceSeen(seen), mark);
}

}  // namespace provgate::audit
