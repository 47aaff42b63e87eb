// The audit trail: one JSON line per request and per admin action, appended to a file and
// copied into the store. A thin façade over its parts:
//   record.hpp          the record, and when it must be on disk (Durability)
//   record_format.hpp   a record as a line of the file, and back
//   chain.hpp           each writer's hash chain over its lines, and signed checkpoints
//   chain_verifier.hpp  finds edited, deleted, reordered records and forged checkpoints
//   log_file.hpp        the file: appends, syncs, the server's lock, torn-line repair, scans
//   committer.hpp       group commit: one thread writes and syncs what serving threads submit
//   store_copier.hpp    the store's copy of the file, deferred for the server, and its
//                       catch-up after a crash
// Every record is synced; its durability class (invariant 7, docs/security.md) says whether its
// response waits for that. Serving threads never wait on the disk themselves.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "audit/committer.hpp"
#include "audit/log_file.hpp"
#include "audit/record.hpp"
#include "audit/record_format.hpp"
#include "audit/store_copier.hpp"
#include "base/clock.hpp"
#include "base/result.hpp"
#include "crypto/signing_key.hpp"
#include "metrics/histogram.hpp"
#include "store/seen_overlay.hpp"
#include "store/store.hpp"

namespace provgate::audit {

struct AuditOptions {
  // Group-commit delay: while commits follow each other within this time (a storm) and
  // other connections may still submit records (commit siblings, below), the committer
  // waits up to this long after a batch's first kDurable record before syncing it, so more
  // requests share one fdatasync. An idle server commits at once, and so does a batch that every
  // open connection is already waiting for. Adds at most this much latency; 0 turns it off.
  // Each batch costs server CPU whatever its size, so shorter delays cost more per request
  // under load (docs/performance.md measures the trade-off).
  std::chrono::microseconds commit_delay{5000};
  // Store copy delay, once the log is claimed for the server: committed records are copied
  // into the store together, at the latest this long after the first of them (or when
  // StoreCopier::kMaxWaiting wait), instead of in each commit's own store transaction before
  // its completions run. The store's queries and last-seen columns lag by at most this much
  // (the server's own checks see the newest last-seen at once: uncopied_seen()). 0 copies
  // with each commit.
  std::chrono::milliseconds store_copy_delay{100};
  // The longest a kWindowed record waits for its sync: the committer gathers such records
  // up to this long (a batch with a kDurable one commits on that one's terms, above), so a
  // crash loses at most this window's secret-free records. 0 syncs each batch at once.
  std::chrono::milliseconds max_unsynced{20};
  // audit.durability = "all": every response waits for its record on disk (Record waits
  // like a kDurable write; the device pipeline classes every outcome kDurable).
  bool hold_every_response = false;
  // A claimed log with a signing key signs its chain's head with a checkpoint record once
  // this many records are unsigned, or this long after the first of them, and when it
  // closes (docs/security.md, "Tamper-evident audit trail").
  std::int64_t checkpoint_records = 1000;
  std::chrono::seconds checkpoint_interval{60};
};

class AuditLog;

// A commit sibling: an open connection that may still submit a record to the log (it is
// in its handshake, reading a request, or idle between keep-alive requests). The commit
// delay applies only while siblings exist: records only ever join a batch from them, so
// once every open connection waits for the batch it cannot grow and is committed at once
// (after PostgreSQL's commit_siblings). A connection releases its standing while it waits
// for its own record's commit and holds it again when it may send another request.
class CommitSibling {
 public:
  explicit CommitSibling(AuditLog& log);
  ~CommitSibling();
  CommitSibling(const CommitSibling&) = delete;
  CommitSibling& operator=(const CommitSibling&) = delete;
  void Hold();
  void Release();

 private:
  AuditLog& log_;
  bool held_ = false;
};

class AuditLog {
 public:
  // Opens (creating, mode 0640) the append-only file and starts the committer.
  // `store` may be null (file only). The commit delay, the window and the store copy delay
  // are timed by `clock`, which must outlive the log.
  static Result<std::unique_ptr<AuditLog>> Open(const std::filesystem::path& file, store::AuditStore* store,
                                                AuditOptions options = {},
                                                const SteadyClock& clock = SteadyClock::System());
  // Commits everything submitted so far, copies what the store lacks, then stops.
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Thread-safe and never blocks on I/O: queues the record, and the last-seen update of the
  // device it answered (written in the same batch), for the committer. `done` may be empty
  // (a kWindowed record nobody waits for); else it must be cheap and must not call back
  // into this log: it runs on the committer thread.
  // Returns an empty record for the caller's next one: a record committed earlier, cleared,
  // whose strings keep their memory, so a serving thread's records allocate nothing.
  AuditRecord Submit(AuditRecord record, Durability durability, std::optional<store::DeviceSeen> seen, Completion done);
  // The same for records that must be committed together (a request's lifecycle records
  // and its own record), in this order.
  AuditRecord Submit(std::vector<AuditRecord> records, Durability durability, std::optional<store::DeviceSeen> seen,
                     Completion done);
  // A record whose response need not wait for it (a refusal, a secret-free answer): queued
  // as kWindowed with nobody to tell of a failure (the committer logs and counts it), unless
  // the log holds every response (AuditOptions::hold_every_response) or is backlogged: then
  // this waits for the commit like Write(kDurable), so no producer grows the queue without
  // bound while the disk stalls.
  Status Record(AuditRecord record);
  // Blocking forms (CLI, tests, rare events on the request path): return once committed.
  // The commit delay does not apply to a batch holding one: the waiting thread may be a
  // serving thread, with every connection it serves stalled until the commit.
  Status Write(const AuditRecord& record, Durability durability, std::optional<store::DeviceSeen> seen = std::nullopt);
  // Many records with one write, one fsync and one store transaction (bulk operations).
  Status WriteBatch(std::span<const AuditRecord> records, Durability durability,
                    std::optional<store::DeviceSeen> seen = std::nullopt);
  // Makes this the server's log, before it serves; other processes may still append.
  // Locks the file against a second server (kUnavailable if one holds it), and copies into
  // the store the records of the previous server run that a crash left out (those after the
  // store's copy mark). From then on each record carries this run's id and a sequence
  // number, and a copier thread copies records into the store in batches, at most the
  // store copy delay after their commit, moving the mark in each copy's transaction. With
  // `signer` and `clock` (the checkpoints' time; both must outlive the log) the chain is signed by checkpoint
  // records (AuditOptions::checkpoint_records). Call it once, before any record is
  // submitted concurrently.
  Status ClaimForServer(const crypto::SigningKey* signer = nullptr, const Clock* clock = nullptr);
  // Last-seen updates the log has committed but may not have copied into the store yet:
  // the pipeline's network-change check overlays them on the device it read
  // (store::SeenOverlay::Apply), so it compares with the address of the device's previous
  // fetch, however recent.
  store::SeenOverlay& uncopied_seen() { return seen_; }
  // Waits until everything submitted before the call is committed and copied to the store.
  void Drain();
  // Batches committed so far (each one write, one fdatasync if durable, and, unless the
  // server's copy is deferred, one store transaction).
  std::uint64_t batches() const { return committer_->batches(); }
  // Each batch's write and fdatasync (not its store copy), for /metrics.
  metrics::Histogram::Reading commit_seconds() const { return committer_->commit_seconds(); }
  // Records submitted whose commit has not completed yet (queued, or in the batch being
  // written).
  std::uint64_t queue_depth() const { return committer_->queue_depth(); }
  // True while so many records wait for the disk (a stalled or slow sync) that a response
  // should wait for its record whatever its class: the queue's memory stays bounded.
  bool backlogged() const { return committer_->backlogged(); }
  bool holds_every_response() const { return options_.hold_every_response; }
  // kWindowed batches whose write or sync failed after their responses had left.
  std::uint64_t windowed_failures() const { return committer_->windowed_failures(); }
  // Failed copies of committed records into the store (each retried, or recovered from the
  // file at the next start).
  std::uint64_t store_copy_failures() const { return copier_ != nullptr ? copier_->failures() : 0; }

 private:
  friend class CommitSibling;
  AuditLog(std::unique_ptr<LogFile> file, store::AuditStore* store, AuditOptions options, const SteadyClock& clock);

  const AuditOptions options_;
  // Destroyed in reverse: the committer commits its queue into the copier, which copies it
  // into the store, before the file closes.
  std::unique_ptr<LogFile> file_;
  store::SeenOverlay seen_;
  std::unique_ptr<StoreCopier> copier_;  // null without a store
  std::unique_ptr<Committer> committer_;
};

}  // namespace provgate::audit
