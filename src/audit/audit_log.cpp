#include "audit/audit_log.hpp"

#include <fcntl.h>
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
                                                 store::Store* store) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) {
    return Error::Unavailable("cannot open audit log " + file.string() + ": " + std::strerror(errno));
  }
  return std::unique_ptr<AuditLog>(new AuditLog(fd, store));
}

AuditLog::~AuditLog() {
  ::fdatasync(fd_);
  ::close(fd_);
}

Status AuditLog::Write(const AuditRecord& record, Durability durability) {
  return WriteBatch(std::span(&record, 1), durability);
}

Status AuditLog::WriteBatch(std::span<const AuditRecord> records, Durability durability) {
  std::string buffer;
  std::vector<store::StoredAuditEvent> events;
  events.reserve(records.size());
  for (const auto& record : records) {
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

  std::unique_lock lock(mu_);
  // O_APPEND + whole lines per write keeps records intact even if another process appends.
  size_t off = 0;
  while (off < buffer.size()) {
    const ssize_t n = ::write(fd_, buffer.data() + off, buffer.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::Unavailable(std::string("audit log write failed: ") + std::strerror(errno));
    }
    off += static_cast<size_t>(n);
  }
  const std::uint64_t seq = ++written_seq_;
  if (durability == Durability::kDurable) PG_TRY_STATUS(Sync(lock, seq));
  lock.unlock();

  if (store_ == nullptr) return Ok();
  return events.size() == 1 ? store_->AppendAudit(events.front()) : store_->AppendAuditBatch(events);
}

// Group commit: the first waiter becomes the leader and fdatasyncs everything written so
// far; writers that arrive meanwhile wait for the next round instead of syncing each line.
Status AuditLog::Sync(std::unique_lock<std::mutex>& lock, std::uint64_t seq) {
  while (synced_seq_ < seq) {
    if (syncing_) {
      synced_cv_.wait(lock);
      continue;
    }
    syncing_ = true;
    const std::uint64_t target = written_seq_;
    lock.unlock();
    const int rc = ::fdatasync(fd_);
    const int err = errno;
    lock.lock();
    syncing_ = false;
    synced_cv_.notify_all();
    if (rc != 0) return Error::Unavailable(std::string("audit log fsync failed: ") + std::strerror(err));
    synced_seq_ = target;
  }
  return Ok();
}

}  // namespace provgate::audit
