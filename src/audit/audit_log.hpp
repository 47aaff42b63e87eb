// The audit trail: one JSON line per request and per admin action, appended to a file and
// copied into the store. One committer thread writes what every serving thread submits, in
// submission order: all records queued while it syncs share the next write and fdatasync
// (group commit). Every record is synced; its durability class (DESIGN.md invariant 7)
// says whether its response waits for that. Serving threads never wait on the disk
// themselves.
//
// The file is the durable record; the store copy serves queries. The server copies records
// into the store in larger batches some time after their file commit (ClaimForServer): a
// store transaction costs more than the fdatasync, and the copy is caught up from the file
// after a crash.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <span>
#include <string_view>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/container/small_vector.hpp>
#include <nlohmann/json.hpp>

#include "base/clock.hpp"
#include "base/result.hpp"
#include "metrics/histogram.hpp"
#include "store/store.hpp"

namespace provgate::audit {

// When a record must be on disk (DESIGN.md invariant 7).
enum class Durability {
  // Synced at most AuditOptions::max_unsynced after its submission (plus the sync's own
  // time); its response does not wait. Secret-free files and refusals.
  kWindowed,
  // Synced before its completion runs, which its response waits for: responses that release
  // a secret, and requests that changed state.
  kDurable,
};

struct AuditRecord {
  TimePoint time;
  std::string kind = "request";  // request | tls | admin | lifecycle
  std::string listener;
  std::string peer;              // "ip:port"
  std::string method;
  std::string file;              // requested target, secrets redacted
  std::string user_agent;
  std::string identity_source;   // client-cert | none
  std::string cert_subject;
  std::string mac;               // authenticated MAC, if any
  std::string url_mac;           // MAC named by the request path, if any (a claim only)
  std::string device;            // device MAC when the identity matched a known device
  std::string decision;          // allow | deny | info
  std::string reason;
  int status = 0;
  std::uint64_t bytes = 0;
  double duration_ms = 0;
  std::string actor;             // admin actions: who ("cli", later "api:<user>")
  // The tenant that held the record's device or object when the record was written (0 = none
  // or platform): what a tenant's audit view filters on, so that a MAC that changed tenants
  // never shows one owner's history to the next.
  std::int64_t tenant_id = 0;
  // Extra fields, never secrets. Null (no allocation) until a field is set, which makes it
  // an object; written only when it holds something.
  nlohmann::json detail;

  // The record as one line of the audit file (JSON, no newline), written straight into
  // `out` without a document tree: keys in sorted order, empty strings left out, numbers
  // only in request records. A server numbers its records with `run` and `seq`
  // (ClaimForServer); `seen` is the last-seen update committed with a request.
  void AppendJson(std::string& out, std::string_view run = {}, std::int64_t seq = 0,
                  const store::DeviceSeen* seen = nullptr) const;
  // Back to a new record's values, keeping the memory its strings hold.
  void Clear();
};

// Text a client wrote (target, User-Agent, certificate subject) is kept in a record only up
// to this many bytes; the rest is replaced by a marker "...[+N bytes]" saying how much was
// cut. Cut on a UTF-8 character boundary.
inline constexpr size_t kMaxClientTextBytes = 512;
void TruncateClientText(std::string& text);
// `field` = `value` truncated as above, reusing the field's memory.
void AssignClientText(std::string& field, std::string_view value);

// An informational record (admin action, lifecycle transition, ban): who did what to which
// device. `device` may be empty.
AuditRecord InfoRecord(TimePoint time, std::string kind, std::string actor, std::string what,
                       std::string device, nlohmann::json detail);

// A line of the audit file: the record as the store keeps it (the indexed columns taken
// from it) and, for a record the server wrote, its run and sequence number (ClaimForServer).
struct StoredLine {
  store::StoredAuditEvent event;
  std::string run;  // empty for records of other processes
  std::int64_t seq = 0;
  // The last-seen update committed with a request's record ("seen"), replayed into the store
  // with the record when a crash came before its copy. A malformed one is left out.
  std::optional<store::DeviceSeen> seen;
};
// Nothing when the line is not a record this log wrote.
std::optional<StoredLine> ParseStoredLine(std::string_view line);

// Called once per submission, on the committer thread: Ok once the records are in the
// file and on disk and, unless the server's copy is deferred
// (store_copy_delay), copied to the store; else the first failure.
using Completion = std::function<void(const Status&)>;

struct AuditOptions {
  // Group-commit delay: while commits follow each other within this time (a storm) and
  // other connections may still submit records (commit siblings, below), the committer
  // waits up to this long after a batch's first kDurable record before syncing it, so more
  // requests share one fdatasync. An idle server commits at once, and so does a batch that every
  // open connection is already waiting for. Adds at most this much latency; 0 turns it off.
  // Each batch costs CPU whatever its size: at ~1 300 req/s, 0.5 / 2 / 5 / 10 ms cost ~915 /
  // 740 / 645 / 600 µs of server CPU per TLS 1.2 request with a store transaction per batch,
  // and 1 / 2 / 5 ms ~690 / 650 / 560 µs with the copy deferred (docs/performance.md).
  std::chrono::microseconds commit_delay{5000};
  // Store copy delay, once the log is claimed for the server: committed records are copied
  // into the store together, at the latest this long after the first of them (or when 1 024
  // wait), instead of in each commit's own store transaction before its completions run.
  // The store's queries and last-seen columns lag by at most this much (the server's own
  // checks see the newest last-seen at once: WithUncopiedSeen). 0 copies with each commit.
  std::chrono::milliseconds store_copy_delay{100};
  // The longest a kWindowed record waits for its sync: the committer gathers such records
  // up to this long (a batch with a kDurable one commits on that one's terms, above), so a
  // crash loses at most this window's secret-free records. 0 syncs each batch at once.
  std::chrono::milliseconds max_unsynced{20};
  // audit.durability = "all": every response waits for its record on disk (Record waits
  // like a kDurable write; the device pipeline classes every outcome kDurable).
  bool hold_every_response = false;
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
  // `store` may be null (file only).
  static Result<std::unique_ptr<AuditLog>> Open(const std::filesystem::path& file, store::AuditStore* store,
                                                AuditOptions options = {});
  // Commits everything submitted so far, then stops the committer.
  ~AuditLog();

  // Thread-safe and never blocks on I/O: queues the record, and the last-seen update of the
  // device it answered (written in the same batch), for the committer. `done` may be empty
  // (a kWindowed record nobody waits for); else it must be cheap and must not call back
  // into this log: it runs on the committer thread.
  // Returns an empty record for the caller's next one: a record committed earlier, cleared,
  // whose strings keep their memory, so a serving thread's records allocate nothing.
  AuditRecord Submit(AuditRecord record, Durability durability, std::optional<store::DeviceSeen> seen,
                     Completion done);
  // The same for records that must be committed together (a request's lifecycle records
  // and its own record), in this order.
  AuditRecord Submit(std::vector<AuditRecord> records, Durability durability,
                     std::optional<store::DeviceSeen> seen, Completion done);
  // A record whose response need not wait for it (a refusal, a secret-free answer): queued
  // as kWindowed with nobody to tell of a failure (the committer logs and counts it), unless
  // the log holds every response (AuditOptions::hold_every_response) or is backlogged: then
  // this waits for the commit like Write(kDurable), so no producer grows the queue without
  // bound while the disk stalls.
  Status Record(AuditRecord record);
  // Blocking forms (CLI, tests, rare events on the request path): return once committed.
  // The commit delay does not apply to a batch holding one: the waiting thread may be a
  // serving thread, with every connection it serves stalled until the commit.
  Status Write(const AuditRecord& record, Durability durability,
               std::optional<store::DeviceSeen> seen = std::nullopt);
  // Many records with one write, one fsync and one store transaction (bulk operations).
  Status WriteBatch(std::span<const AuditRecord> records, Durability durability,
                    std::optional<store::DeviceSeen> seen = std::nullopt);
  // Makes this the server's log, before it serves; other processes may still append.
  // Locks the file against a second server (kUnavailable if one holds it), and copies into
  // the store the records of the previous server run that a crash left out (those after the
  // store's copy mark). From then on each record carries this run's id and a sequence
  // number, and a copier thread copies records into the store in batches, at most the
  // store copy delay after their commit, moving the mark in each copy's transaction. Call
  // it once, before any record is submitted concurrently.
  Status ClaimForServer();
  // Brings the device's last-seen columns, as read from the store, up to date with what the
  // log has committed but may not have copied yet: the pipeline's network-change check
  // compares with the address of the device's previous fetch, however recent.
  // The device itself when nothing uncopied changes it (no copy), else a copy with it.
  std::shared_ptr<const core::Device> WithUncopiedSeen(std::shared_ptr<const core::Device> device);
  // Waits until everything submitted before the call is committed and copied to the store.
  void Drain();
  // Batches committed so far (each one write, one fdatasync if durable, and, unless the
  // server's copy is deferred, one store transaction).
  std::uint64_t batches() const { return batches_.load(std::memory_order_relaxed); }
  // Each batch's write and fdatasync (not its store copy), for /metrics.
  metrics::Histogram::Reading commit_seconds() const { return commit_seconds_.Read(); }
  // Records submitted whose commit has not completed yet (queued, or in the batch being
  // written).
  std::uint64_t queue_depth() const { return queue_depth_.load(std::memory_order_relaxed); }
  // True while so many records wait for the disk (a stalled or slow sync) that a response
  // should wait for its record whatever its class: the queue's memory stays bounded.
  bool backlogged() const { return queue_depth() >= kMaxQueuedRecords; }
  bool holds_every_response() const { return options_.hold_every_response; }
  // kWindowed batches whose write or sync failed after their responses had left.
  std::uint64_t windowed_failures() const { return windowed_failures_.load(std::memory_order_relaxed); }
  // Failed copies of committed records into the store (each retried, or recovered from the
  // file at the next start).
  std::uint64_t store_copy_failures() const { return store_copy_failures_.load(std::memory_order_relaxed); }

 private:
  friend class CommitSibling;
  void AddSiblings(int delta);

  struct Entry {
    // A request's one record lives in the entry itself: submitting it allocates nothing.
    boost::container::small_vector<AuditRecord, 1> records;
    Durability durability = Durability::kDurable;
    bool blocking = false;  // a thread waits for it (Write, WriteBatch): never delayed
    std::optional<store::DeviceSeen> seen;
    Completion done;
  };
  // Records of one committed batch, handed to the copier (server only).
  struct CopyChunk {
    std::vector<store::StoredAuditEvent> events;  // empty when the batch's write failed
    std::vector<store::DeviceSeen> seen;
    std::optional<store::AuditCopyMark> mark;     // where the file stood after the batch
    std::uint64_t through = 0;  // entries committed up to and including this batch
  };
  // A last-seen update the store may not have yet, and when a copy stored it.
  struct UncopiedSeen {
    store::DeviceSeen seen;
    std::optional<std::chrono::steady_clock::time_point> copied;
    // The device it was last overlaid on and the result, so that a device's requests until
    // the copy reaches the fleet cache share one copy rather than make one each.
    std::shared_ptr<const core::Device> base;
    std::shared_ptr<const core::Device> overlaid;
  };
  AuditLog(int fd, std::string file_key, store::AuditStore* store, AuditOptions options);
  AuditRecord Enqueue(Entry entry);  // returns a spare record
  void Recycle(std::vector<Entry>& batch);
  Status EnqueueAndWait(Entry entry);
  void Run();
  void Commit(std::vector<Entry>& batch, bool claimed);
  void RunCopier();
  static CopyChunk Merge(std::vector<CopyChunk>& chunks);
  Status Copy(const CopyChunk& chunk);
  bool SeenDeviceIsStill(const store::DeviceSeen& seen, const std::string& mac);
  Status RecoverStoreCopy();
  Status WriteLines(const std::string& buffer);

  // A batch never grows beyond this while the committer delays; a copy starts early once
  // this many records wait.
  static constexpr size_t kMaxBatch = 1024;
  // See backlogged().
  static constexpr size_t kMaxQueuedRecords = 16 * kMaxBatch;
  // Room a line usually needs (a request record is 400-600 bytes), so it is allocated once.
  static constexpr size_t kLineReserve = 640;
  // While copies fail, records wait for another try up to this many; beyond it (or when a
  // Drain or the shutdown waits) copying stops until the next server start recovers them.
  static constexpr size_t kMaxUncopied = 100'000;
  // Committed records kept, cleared, for Submit to hand out again (about the requests in
  // flight at once; more are freed).
  static constexpr size_t kMaxSpareRecords = 256;
  // Kept this long after their copy, for requests that read the store just before it.
  static constexpr std::chrono::seconds kCopiedSeenKeep{10};

  int fd_;
  const std::string file_key_;  // the file's canonical path: its copy mark's key
  store::AuditStore* store_;
  const AuditOptions options_;
  std::string run_;   // this server run's id, set by ClaimForServer before claimed_
  std::int64_t seq_ = 0;  // committer thread only: the last sequence number written
  bool copy_suspended_ = false;  // copier thread only: a copy failed for good
  mutable std::mutex seen_mu_;
  std::unordered_map<std::int64_t, UncopiedSeen> uncopied_seen_;  // by device id

  std::mutex mu_;
  std::condition_variable queued_cv_;     // the committer waits for work
  std::condition_variable committed_cv_;  // Drain waits for the committer and the copier
  std::condition_variable copy_cv_;       // the copier waits for chunks
  std::vector<Entry> queue_;
  std::vector<AuditRecord> spare_records_;  // capacity kMaxSpareRecords, reserved once
  std::uint64_t submitted_ = 0;  // entries queued so far
  std::uint64_t committed_ = 0;  // entries whose completion has run
  // Entries are committed in submission order; the first copied_through_ of them are in the
  // store (or given up, see kMaxUncopied).
  std::uint64_t copied_through_ = 0;
  std::uint64_t copy_wanted_through_ = 0;  // a Drain waits for this many
  bool claimed_ = false;
  std::vector<CopyChunk> copy_queue_;
  size_t copy_queued_events_ = 0;
  std::chrono::steady_clock::time_point copy_since_;  // when copy_queue_ last became non-empty
  bool copier_stopping_ = false;
  std::chrono::steady_clock::time_point last_commit_;    // when the last batch was committed
  bool stopping_ = false;
  std::int64_t siblings_ = 0;  // CommitSibling standings held
  bool delaying_ = false;      // the committer is waiting out the commit delay
  bool blocking_queued_ = false;  // the queue holds an entry a thread waits for
  // When the first kDurable (kWindowed) entry in the queue was queued, if one is.
  std::optional<std::chrono::steady_clock::time_point> durable_queued_;
  std::optional<std::chrono::steady_clock::time_point> windowed_queued_;
  bool commit_wanted_ = false;  // a Drain waits: commit what is queued at once
  std::atomic<std::uint64_t> batches_{0};
  metrics::Histogram commit_seconds_;
  std::atomic<std::uint64_t> queue_depth_{0};
  std::atomic<std::uint64_t> store_copy_failures_{0};
  std::atomic<std::uint64_t> windowed_failures_{0};
  std::thread copier_;     // started by ClaimForServer when the copy is deferred
  std::thread committer_;  // last: started when everything above exists
};


}  // namespace provgate::audit
