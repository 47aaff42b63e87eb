#include "audit/audit_log.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <unordered_map>

namespace provgate::audit {
namespace {

// The store's indexed columns of a record: by these its events are listed per device.
store::StoredAuditEvent Stored(std::int64_t time, std::string kind, const std::string& device,
                               const std::string& mac, std::string decision, std::string reason,
                               std::string json) {
  store::StoredAuditEvent e;
  e.time = time;
  e.kind = std::move(kind);
  e.mac = !device.empty() ? device : mac;
  e.decision = std::move(decision);
  e.reason = std::move(reason);
  e.json = std::move(json);
  return e;
}

}  // namespace

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

std::optional<store::StoredAuditEvent> ParseStoredLine(std::string_view line) {
  const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  // Absent fields are empty (ToJson leaves them out); present ones must be strings.
  bool ok = true;
  auto text = [&](const char* key) {
    const auto it = j.find(key);
    if (it == j.end()) return std::string();
    if (!it->is_string()) {
      ok = false;
      return std::string();
    }
    return it->get<std::string>();
  };
  const auto time = ParseRfc3339(text("time"));
  std::string kind = text("kind");
  std::string decision = text("decision");
  std::string reason = text("reason");
  const std::string device = text("device");
  const std::string mac = text("mac");
  if (!ok || !time || kind.empty() || decision.empty()) return std::nullopt;
  return Stored(ToUnix(*time), std::move(kind), device, mac, std::move(decision), std::move(reason),
                std::string(line));
}

Result<std::unique_ptr<AuditLog>> AuditLog::Open(const std::filesystem::path& file,
                                                 store::Store* store, AuditOptions options) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) {
    return Error::Unavailable("cannot open audit log " + file.string() + ": " + std::strerror(errno));
  }
  std::error_code ec;
  auto key = std::filesystem::weakly_canonical(file, ec);
  return std::unique_ptr<AuditLog>(new AuditLog(fd, ec ? file.string() : key.string(), store, options));
}

AuditLog::AuditLog(int fd, std::string file_key, store::Store* store, AuditOptions options)
    : fd_(fd), file_key_(std::move(file_key)), store_(store), options_(options),
      committer_([this] { Run(); }) {}

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
  copy_wanted_through_ = std::max(copy_wanted_through_, target);
  queued_cv_.notify_one();
  committed_cv_.wait(lock, [&] { return copied_through_ >= target; });
}

void AuditLog::OverlayUncopiedSeen(core::Device& device) const {
  std::lock_guard lock(seen_mu_);
  const auto it = uncopied_seen_.find(device.id);
  if (it == uncopied_seen_.end()) return;
  const store::DeviceSeen& d = it->second;
  device.last_seen_at = d.time;
  device.last_seen_ip = d.ip;
  device.last_user_agent = d.user_agent;
  if (!d.firmware.empty()) device.firmware = d.firmware;
}

Status AuditLog::ClaimForServer() {
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return Error::Unavailable("audit log " + file_key_ +
                                " is in use by another provgate server: run one server per installation");
    }
    return Error::Unavailable("cannot lock audit log " + file_key_ + ": " + std::strerror(errno));
  }
  Drain();
  if (store_ != nullptr) PG_TRY_STATUS(RecoverStoreCopy());
  std::lock_guard lock(mu_);
  claimed_ = true;
  return Ok();
}

// Records the server wrote past the copy mark may be missing from the store (a crash came
// before their copy); records other processes wrote there are in it, stored with ids above
// the mark's. Each line past the mark is copied unless an event stored since the mark has
// exactly its text.
Status AuditLog::RecoverStoreCopy() {
  // Queried before the file's size: whatever is appended after that is stored with a higher id.
  PG_TRY(const std::int64_t last_id, store_->LastAuditId());
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    return Error::Unavailable("cannot stat audit log " + file_key_ + ": " + std::strerror(errno));
  }
  const std::int64_t size = st.st_size;
  PG_TRY(auto mark, store_->FindAuditCopyMark(file_key_));
  if (!mark) {  // until now every record was copied before its completion ran
    return store_->AppendAuditBatch({}, {}, store::AuditCopyMark{file_key_, size, last_id});
  }
  // A file shorter than the mark was rotated or truncated: all of it is past the mark.
  const std::int64_t from = mark->offset <= size ? mark->offset : 0;
  std::string tail(static_cast<size_t>(size - from), '\0');
  std::ifstream in(file_key_, std::ios::binary);
  in.seekg(from);
  if (!in.read(tail.data(), static_cast<std::streamsize>(tail.size()))) {
    return Error::Unavailable("cannot read audit log " + file_key_ + " to catch up its store copy");
  }
  PG_TRY(const auto stored_since, store_->ListAuditJsonAfter(mark->last_id));
  std::unordered_map<std::string_view, int> stored;
  for (const auto& json : stored_since) ++stored[json];
  std::vector<store::StoredAuditEvent> missing;
  size_t unreadable = 0;
  size_t pos = 0;
  for (size_t nl; (nl = tail.find('\n', pos)) != std::string::npos; pos = nl + 1) {
    const std::string_view line(tail.data() + pos, nl - pos);
    if (auto it = stored.find(line); it != stored.end() && it->second > 0) {
      --it->second;
    } else if (auto e = ParseStoredLine(line)) {
      missing.push_back(std::move(*e));
    } else {
      ++unreadable;
    }
  }
  if (unreadable > 0) {
    spdlog::warn("audit log {}: {} lines past the store's copy mark are not audit records; not copied",
                 file_key_, unreadable);
  }
  if (!missing.empty()) {
    spdlog::warn("audit log {}: copying {} records into the store that an unclean stop left out",
                 file_key_, missing.size());
  }
  // A last line without its newline is still being written, or was cut by a crash: the
  // mark stays before it.
  return store_->AppendAuditBatch(
      missing, {}, store::AuditCopyMark{file_key_, from + static_cast<std::int64_t>(pos), last_id});
}

// Takes whatever is queued as one batch: while a batch syncs, the next one gathers, so the
// number of fdatasyncs follows the disk's pace rather than the request rate. Under a
// storm the commit delay lets each batch gather a little longer, as long as some open
// connection may still add to it. Once claimed for the server, committed records wait in
// pending_ for their store copy, which runs when it is due and nothing is queued, when it
// is large or due after a commit, and when Drain or the destructor asks for it.
void AuditLog::Run() {
  pthread_setname_np(pthread_self(), "pg-audit");
  std::vector<Entry> batch;
  for (;;) {
    bool claimed = false;
    {
      std::unique_lock lock(mu_);
      auto work = [&] { return !queue_.empty() || stopping_ || copy_wanted(); };
      if (pending_.entries == 0) {
        queued_cv_.wait(lock, work);
      } else {
        queued_cv_.wait_until(lock, pending_.since + options_.store_copy_delay, work);
      }
      if (queue_.empty()) {
        if (pending_.entries > 0) {  // due, wanted, or stopping
          lock.unlock();
          CopyPending();
          continue;
        }
        if (stopping_) return;  // everything is committed and copied
        continue;
      }
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
      claimed = claimed_;
    }
    const std::uint64_t pending = Commit(batch, claimed);
    bool copy_now = false;
    {
      std::lock_guard lock(mu_);
      committed_ += batch.size();
      if (pending_.entries == 0) copied_through_ = committed_;
      last_commit_ = std::chrono::steady_clock::now();
      copy_now = pending > 0 && (copy_wanted() || stopping_ || pending_.events.size() >= kMaxBatch ||
                                 last_commit_ - pending_.since >= options_.store_copy_delay);
    }
    committed_cv_.notify_all();
    batch.clear();
    if (copy_now) CopyPending();
  }
}

std::uint64_t AuditLog::Commit(std::vector<Entry>& batch, bool claimed) {
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
      events.push_back(Stored(ToUnix(record.time), record.kind, record.device, record.mac,
                              record.decision, record.reason, std::move(line)));
    }
    if (entry.seen) seen.push_back(std::move(*entry.seen));
    durable = durable || entry.durability == Durability::kDurable;
  }
  // The copy mark needs the newest stored id from before this write: records appended after
  // these lines, by any process, are stored after it. Without it the mark stays behind.
  std::optional<std::int64_t> last_id;
  if (claimed && store_ != nullptr && mark_ok_) {
    if (auto id = store_->LastAuditId()) last_id = *id;
  }
  Status st = WriteLines(buffer);
  if (st && durable && ::fdatasync(fd_) != 0) {
    st = Error::Unavailable(std::string("audit log fsync failed: ") + std::strerror(errno));
  }
  std::optional<store::AuditCopyMark> mark;
  if (st && last_id) {
    // O_APPEND leaves the offset at the end of this write, whoever appended before it.
    if (const off_t end = ::lseek(fd_, 0, SEEK_CUR); end >= 0) {
      mark = store::AuditCopyMark{file_key_, end, *last_id};
    }
  }
  const bool defer = claimed && store_ != nullptr && options_.store_copy_delay.count() > 0;
  // The store copy never runs ahead of the file.
  if (st && store_ != nullptr && !defer) {
    st = store_->AppendAuditBatch(events, seen, mark);
  }
  batches_.fetch_add(1, std::memory_order_relaxed);
  for (auto& entry : batch) {
    if (entry.done) entry.done(st);
  }
  if (!st || !defer) return 0;
  if (pending_.entries == 0) pending_.since = std::chrono::steady_clock::now();
  if (!seen.empty()) {
    std::lock_guard lock(seen_mu_);
    for (const auto& d : seen) uncopied_seen_[d.device_id] = d;  // a later one wins, as in the store
  }
  std::move(events.begin(), events.end(), std::back_inserter(pending_.events));
  std::move(seen.begin(), seen.end(), std::back_inserter(pending_.seen));
  if (mark) pending_.mark = std::move(mark);
  pending_.entries += batch.size();
  return batch.size();
}

void AuditLog::CopyPending() {
  const Status st =
      store_->AppendAuditBatch(pending_.events, pending_.seen, mark_ok_ ? pending_.mark : std::nullopt);
  if (!st && mark_ok_) {
    // The records are in the file. The mark stays before them and no later copy moves it,
    // so the server's next start copies them from there.
    mark_ok_ = false;
    spdlog::error("audit log {}: copying {} records into the store failed ({}); they are in the "
                  "file, and the next server start copies them",
                  file_key_, pending_.events.size(), st.error().message);
  }
  {
    const std::int64_t before = ToUnix(std::chrono::system_clock::now()) - kUncopiedSeenKeepSeconds;
    std::lock_guard lock(seen_mu_);
    std::erase_if(uncopied_seen_, [&](const auto& kv) { return kv.second.time < before; });
  }
  pending_.events.clear();
  pending_.seen.clear();
  pending_.mark.reset();
  {
    std::lock_guard lock(mu_);
    pending_.entries = 0;
    copied_through_ = committed_;
  }
  committed_cv_.notify_all();
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
