#include "audit/audit_log.hpp"

#include <iterator>

#include "crypto/random.hpp"

namespace provgate::audit {

Result<std::unique_ptr<AuditLog>> AuditLog::Open(const std::filesystem::path& file, store::AuditStore* store,
                                                 AuditOptions options, const SteadyClock& clock) {
  PG_TRY(auto log_file, LogFile::Open(file));
  return std::unique_ptr<AuditLog>(new AuditLog(std::move(log_file), store, options, clock));
}

AuditLog::AuditLog(std::unique_ptr<LogFile> file, store::AuditStore* store, AuditOptions options,
                   const SteadyClock& clock)
    : options_(options), file_(std::move(file)), seen_(clock) {
  if (store != nullptr) {
    copier_ = std::make_unique<StoreCopier>(*file_, *store, seen_, options_.store_copy_delay, clock);
  }
  committer_ = std::make_unique<Committer>(*file_, copier_.get(),
                                           CommitTiming{options_.commit_delay, options_.max_unsynced}, clock);
}

AuditLog::~AuditLog() {
  committer_.reset();  // commits the queue and hands its records to the copier
  copier_.reset();     // copies them
}

AuditRecord AuditLog::Submit(AuditRecord record, Durability durability, std::optional<store::DeviceSeen> seen,
                             Completion done) {
  Entry e{{}, durability, false, std::move(seen), std::move(done)};
  e.records.push_back(std::move(record));
  return committer_->Enqueue(std::move(e));
}

AuditRecord AuditLog::Submit(std::vector<AuditRecord> records, Durability durability,
                             std::optional<store::DeviceSeen> seen, Completion done) {
  Entry e{{}, durability, false, std::move(seen), std::move(done)};
  e.records.assign(std::make_move_iterator(records.begin()), std::make_move_iterator(records.end()));
  return committer_->Enqueue(std::move(e));
}

Status AuditLog::Record(AuditRecord record) {
  if (options_.hold_every_response || backlogged()) return Write(record, Durability::kDurable);
  Submit(std::move(record), Durability::kWindowed, std::nullopt, {});
  return Ok();
}

Status AuditLog::Write(const AuditRecord& record, Durability durability, std::optional<store::DeviceSeen> seen) {
  return WriteBatch(std::span(&record, 1), durability, std::move(seen));
}

Status AuditLog::WriteBatch(std::span<const AuditRecord> records, Durability durability,
                            std::optional<store::DeviceSeen> seen) {
  Entry e;
  e.records.assign(records.begin(), records.end());
  e.durability = durability;
  e.seen = std::move(seen);
  return committer_->EnqueueAndWait(std::move(e));
}

void AuditLog::Drain() {
  const std::uint64_t through = committer_->Flush();
  if (copier_ != nullptr) copier_->Flush(through);
}

Status AuditLog::ClaimForServer(const crypto::SigningKey* signer, const Clock* clock) {
  PG_TRY_STATUS(file_->LockForServer());
  Drain();
  const auto run_bytes = crypto::RandomBytes(8);
  const std::string run = crypto::HexEncode(run_bytes.data(), run_bytes.size());
  PG_TRY_STATUS(file_->EndTornLine());
  if (copier_ != nullptr) {
    PG_TRY_STATUS(copier_->CatchUp(run));
    copier_->StartDeferring();
  }
  std::optional<Checkpoints> checkpoints;
  if (signer != nullptr && clock != nullptr) {
    checkpoints = Checkpoints{signer, clock, options_.checkpoint_records, options_.checkpoint_interval};
  }
  committer_->Number(run, checkpoints);
  return Ok();
}

CommitSibling::CommitSibling(AuditLog& log) : log_(log) { Hold(); }

CommitSibling::~CommitSibling() { Release(); }

void CommitSibling::Hold() {
  if (held_) return;
  held_ = true;
  log_.committer_->AddSiblings(1);
}

void CommitSibling::Release() {
  if (!held_) return;
  held_ = false;
  log_.committer_->AddSiblings(-1);
}

}  // namespace provgate::audit
