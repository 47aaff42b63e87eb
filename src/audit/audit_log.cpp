#include "audit/audit_log.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace provgate::audit {

nlohmann::json AuditRecord::ToJson() const {
  nlohmann::json j = {{"time", FormatRfc3339(time)}, {"kind", kind}, {"decision", decision},
                      {"reason", reason}};
  auto put = [&j](const char* key, const std::string& v) {
    if (!v.empty()) j[key] = v;
  };
  put("listener", listener);
  put("peer", peer);
  put("method", method);
  put("file", file);
  put("user_agent", user_agent);
  put("identity_source", identity_source);
  put("cert_subject", cert_subject);
  put("mac", mac);
  put("url_mac", url_mac);
  put("device", device);
  put("actor", actor);
  if (kind == "request") {
    j["status"] = status;
    j["bytes"] = bytes;
    j["duration_ms"] = duration_ms;
  }
  if (!detail.empty()) j["detail"] = detail;
  return j;
}

AuditRecord InfoRecord(TimePoint time, std::string kind, std::string actor, std::string what,
                       std::string device, nlohmann::json detail) {
  AuditRecord r;
  r.time = time;
  r.kind = std::move(kind);
  r.actor = std::move(actor);
  r.decision = "info";
  r.reason = std::move(what);
  r.device = std::move(device);
  r.detail = std::move(detail);
  return r;
}

Result<std::unique_ptr<AuditLog>> AuditLog::Open(const std::filesystem::path& file,
                                                 store::Store* store, AuditOptions options) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) {
    return Error::Unavailable("cannot open audit log " + file.string() + ": " + std::strerror(errno));
  }
  return std::unique_ptr<AuditLog>(new AuditLog(fd, store, options));
}

AuditLog::AuditLog(int fd, store::Store* store, AuditOptions options)
    : fd_(fd), store_(store), options_(options), committer_([this] { Run(); }) {}

AuditLog::~AuditLog() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  queued_cv_.notify_one();
  committer_.join();
  ::fdatasync(fd_);
  ::close(fd_);
}

void AuditLog::Submit(AuditRecord record, Durability durability,
                      std::optional<store::DeviceSeen> seen, Completion done) {
  std::vector<AuditRecord> records;
  records.push_back(std::move(record));
  Submit(std::move(records), durability, std::move(seen), std::move(done));
}

void AuditLog::Submit(std::vector<AuditRecord> records, Durability durability,
                      std::optional<store::DeviceSeen> seen, Completion done) {
  Entry e;
  e.records = std::move(records);
  e.durability = durability;
  e.seen = std::move(seen);
  e.done = std::move(done);
  Enqueue(std::move(e));
}

void AuditLog::Enqueue(Entry entry) {
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    if (queue_.empty()) {
      oldest_queued_ = std::chrono::steady_clock::now();
      wake = true;
    }
    blocking_queued_ = blocking_queued_ || entry.blocking;
    wake = wake || entry.blocking;
    queue_.push_back(std::move(entry));
    ++submitted_;
    wake = wake || queue_.size() == kMaxBatch;
  }
  // The committer waits only for an empty queue to fill, a delayed batch to fill up, or a
  // blocked writer.
  if (wake) queued_cv_.notify_one();
}

Status AuditLog::Write(const AuditRecord& record, Durability durability,
                       std::optional<store::DeviceSeen> seen) {
  return WriteBatch(std::span(&record, 1), durability, std::move(seen));
}

Status AuditLog::WriteBatch(std::span<const AuditRecord> records, Durability durability,
                           std::optional<store::DeviceSeen> seen) {
  Entry e;
  e.records.assign(records.begin(), records.end());
  e.durability = durability;
  e.seen = std::move(seen);
  return EnqueueAndWait(std::move(e));
}

Status AuditLog::EnqueueAndWait(Entry entry) {
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

CommitSibling::CommitSibling(AuditLog& log) : log_(log) { Hold(); }

CommitSibling::~CommitSibling() { Release(); }

void CommitSibling::Hold() {
  if (held_) return;
  held_ = true;
  log_.AddSiblings(1);
}

void CommitSibling::Release() {
  if (!held_) return;
  held_ = false;
  log_.AddSiblings(-1);
}

void AuditLog::AddSiblings(int delta) {
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    siblings_ += delta;
    wake = delaying_ && siblings_ == 0;
  }
  if (wake) queued_cv_.notify_one();
}

void AuditLog::Drain() {
  std::unique_lock lock(mu_);
  const std::uint64_t target = submitted_;
  committed_cv_.wait(lock, [&] { return committed_ >= target; });
}

// Takes whatever is queued as one batch: while a batch syncs, the next one gathers, so the
// number of fdatasyncs follows the disk's pace rather than the request rate. Under a
// storm the commit delay lets each batch gather a little longer, as long as some open
// connection may still add to it.
void AuditLog::Run() {
  pthread_setname_np(pthread_self(), "pg-audit");
  std::vector<Entry> batch;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      queued_cv_.wait(lock, [&] { return !queue_.empty() || stopping_; });
      if (queue_.empty()) return;  // stopping, and everything is committed
      const auto delay = options_.commit_delay;
      if (delay.count() > 0 && std::chrono::steady_clock::now() - last_commit_ < delay) {
        delaying_ = true;
        queued_cv_.wait_until(lock, oldest_queued_ + delay, [&] {
          return queue_.size() >= kMaxBatch || stopping_ || siblings_ <= 0 || blocking_queued_;
        });
        delaying_ = false;
      }
      batch.swap(queue_);
      blocking_queued_ = false;
    }
    Commit(batch);
    {
      std::lock_guard lock(mu_);
      committed_ += batch.size();
      last_commit_ = std::chrono::steady_clock::now();
    }
    committed_cv_.notify_all();
    batch.clear();
  }
}

void AuditLog::Commit(std::vector<Entry>& batch) {
  std::string buffer;
  std::vector<store::StoredAuditEvent> events;
  std::vector<store::DeviceSeen> seen;
  bool durable = false;
  for (auto& entry : batch) {
    for (const auto& record : entry.records) {
      // error_handler::replace: a User-Agent with invalid UTF-8 must not make a record unwritable.
      std::string line = record.ToJson().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      buffer += line;
      buffer.push_back('\n');
      store::StoredAuditEvent e;
      e.time = ToUnix(record.time);
      e.kind = record.kind;
      e.mac = !record.device.empty() ? record.device : record.mac;
      e.decision = record.decision;
      e.reason = record.reason;
      e.json = std::move(line);
      events.push_back(std::move(e));
    }
    if (entry.seen) seen.push_back(std::move(*entry.seen));
    durable = durable || entry.durability == Durability::kDurable;
  }
  Status st = WriteLines(buffer);
  if (st && durable && ::fdatasync(fd_) != 0) {
    st = Error::Unavailable(std::string("audit log fsync failed: ") + std::strerror(errno));
  }
  // The file is the durable record; the store copy serves queries and never runs ahead of it.
  if (st && store_ != nullptr) {
    st = store_->AppendAuditBatch(events, seen);
  }
  batches_.fetch_add(1, std::memory_order_relaxed);
  for (auto& entry : batch) {
    if (entry.done) entry.done(st);
  }
}

// O_APPEND and whole lines per write keep records intact even if another process appends.
Status AuditLog::WriteLines(const std::string& buffer) {
  size_t off = 0;
  while (off < buffer.size()) {
    const ssize_t n = ::write(fd_, buffer.data() + off, buffer.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::Unavailable(std::string("audit log write failed: ") + std::strerror(errno));
    }
    off += static_cast<size_t>(n);
  }
  return Ok();
}

}  // namespace provgate::audit
