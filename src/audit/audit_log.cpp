#include "audit/audit_log.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "base/decimal.hpp"
#include "crypto/random.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <climits>
#include <cstring>
#include <fstream>
#include <iterator>

namespace provgate::audit {
namespace {

// The store's indexed columns of a record: by these its events are listed per device.
store::StoredAuditEvent Stored(std::int64_t time, std::string kind, const std::string& device,
                               const std::string& mac, std::int64_t tenant_id, std::string decision,
                               std::string reason, std::string json) {
  store::StoredAuditEvent e;
  e.time = time;
  if (tenant_id != 0) e.tenant_id = tenant_id;
  e.kind = std::move(kind);
  e.mac = !device.empty() ? device : mac;
  e.decision = std::move(decision);
  e.reason = std::move(reason);
  e.json = std::move(json);
  return e;
}

// One JSON object written straight into a string. Callers give keys in sorted order, the
// order nlohmann::json's map keeps, so lines read the same whoever wrote them.
class ObjectWriter {
 public:
  explicit ObjectWriter(std::string& out) : out_(out) { out_.push_back('{'); }
  ~ObjectWriter() { out_.push_back('}'); }
  ObjectWriter(const ObjectWriter&) = delete;
  ObjectWriter& operator=(const ObjectWriter&) = delete;

  void Text(std::string_view key, std::string_view value) {
    Key(key);
    Quoted(value);
  }
  void TextIfAny(std::string_view key, std::string_view value) {
    if (!value.empty()) Text(key, value);
  }
  void Time(std::string_view key, TimePoint t) {
    Key(key);
    out_.push_back('"');
    AppendRfc3339(out_, t);
    out_.push_back('"');
  }
  template <typename Integer>
  void Number(std::string_view key, Integer value) {
    Key(key);
    fmt::format_to(std::back_inserter(out_), "{}", value);
  }
  void Millis(std::string_view key, double value) {
    Key(key);
    if (!std::isfinite(value)) {
      out_ += "null";  // JSON has no NaN or infinity (nlohmann wrote null too)
      return;
    }
    fmt::format_to(std::back_inserter(out_), "{:.3f}", value);  // microseconds are plenty
  }
  void Json(std::string_view key, const nlohmann::json& value) {
    Key(key);
    out_ += Dump(value);
  }
  // Opens a nested object under `key`; it closes when the returned writer goes.
  ObjectWriter Object(std::string_view key) {
    Key(key);
    return ObjectWriter(out_);
  }

 private:
  static std::string Dump(const nlohmann::json& value) {
    // error_handler::replace: a User-Agent with invalid UTF-8 must not make a record unwritable.
    return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  void Key(std::string_view key) {
    if (!first_) out_.push_back(',');
    first_ = false;
    Quoted(key);
    out_.push_back(':');
  }
  // Printable ASCII without quotes or backslashes (nearly every field) is copied as it
  // is; anything else takes nlohmann's escaping, which also replaces invalid UTF-8.
  void Quoted(std::string_view s) {
    const bool plain = std::all_of(s.begin(), s.end(), [](char c) {
      return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
    });
    if (!plain) {
      out_ += Dump(nlohmann::json(std::string(s)));
      return;
    }
    out_.push_back('"');
    out_.append(s);
    out_.push_back('"');
  }

  std::string& out_;
  bool first_ = true;
};

}  // namespace

void AuditRecord::AppendJson(std::string& out, std::string_view run, std::int64_t seq,
                             const store::DeviceSeen* seen) const {
  const bool request = kind == "request";
  ObjectWriter w(out);
  w.TextIfAny("actor", actor);
  if (request) w.Number("bytes", bytes);
  w.TextIfAny("cert_subject", cert_subject);
  w.Text("decision", decision);
  if (!detail.empty()) w.Json("detail", detail);
  w.TextIfAny("device", device);
  if (request) w.Millis("duration_ms", duration_ms);
  w.TextIfAny("file", file);
  w.TextIfAny("identity_source", identity_source);
  w.Text("kind", kind);
  w.TextIfAny("listener", listener);
  w.TextIfAny("mac", mac);
  w.TextIfAny("method", method);
  w.TextIfAny("peer", peer);
  w.Text("reason", reason);
  w.TextIfAny("run", run);
  if (seen != nullptr) {
    ObjectWriter s = w.Object("seen");
    s.Number("device_id", seen->device_id);
    s.Text("firmware", seen->firmware);
    s.Text("ip", seen->ip);
    s.Number("time", seen->time);
    s.Text("user_agent", seen->user_agent);
  }
  if (!run.empty()) w.Number("seq", seq);
  if (request) w.Number("status", status);
  if (tenant_id != 0) w.Number("tenant_id", tenant_id);
  w.Time("time", time);
  w.TextIfAny("url_mac", url_mac);
  w.TextIfAny("user_agent", user_agent);
}

void AuditRecord::Clear() {
  time = {};
  kind.assign("request");
  for (std::string* s : {&listener, &peer, &method, &file, &user_agent, &identity_source,
                         &cert_subject, &mac, &url_mac, &device, &decision, &reason, &actor}) {
    s->clear();
  }
  status = 0;
  tenant_id = 0;
  bytes = 0;
  duration_ms = 0;
  detail = nullptr;
}

namespace {

// Where client text longer than kMaxClientTextBytes is cut: at the bound, moved back to the
// first byte of a UTF-8 sequence so that no character is halved.
size_t ClientTextCut(std::string_view text) {
  size_t cut = kMaxClientTextBytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return cut;
}

}  // namespace

void TruncateClientText(std::string& text) {
  if (text.size() <= kMaxClientTextBytes) return;
  const std::string whole = std::move(text);
  AssignClientText(text, whole);
}

void AssignClientText(std::string& field, std::string_view value) {
  if (value.size() <= kMaxClientTextBytes) {
    field.assign(value);
    return;
  }
  const size_t cut = ClientTextCut(value);
  field.assign(value.substr(0, cut)).append("...[+").append(Decimal(value.size() - cut).view()).append(" bytes]");
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

namespace {

std::optional<store::DeviceSeen> ParseSeen(const nlohmann::json& j) {
  if (!j.is_object()) return std::nullopt;
  const auto integer = [&](const char* key) -> std::optional<std::int64_t> {
    const auto it = j.find(key);
    if (it == j.end() || !it->is_number_integer()) return std::nullopt;
    if (it->is_number_unsigned() && it->get<std::uint64_t>() > INT64_MAX) return std::nullopt;
    return it->get<std::int64_t>();
  };
  const auto text = [&](const char* key) -> std::optional<std::string> {
    const auto it = j.find(key);
    if (it == j.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  const auto id = integer("device_id");
  const auto time = integer("time");
  auto ip = text("ip");
  auto user_agent = text("user_agent");
  auto firmware = text("firmware");
  if (!id || !time || !ip || !user_agent || !firmware || *id <= 0 || *time < 0) return std::nullopt;
  return store::DeviceSeen{*id, *time, std::move(*ip), std::move(*user_agent), std::move(*firmware)};
}

}  // namespace

std::optional<StoredLine> ParseStoredLine(std::string_view line) {
  const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  // Absent fields are empty (AppendJson leaves them out); present ones must have their type.
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
  StoredLine out;
  out.run = text("run");
  if (const auto it = j.find("seq"); it != j.end()) {
    if (!it->is_number_unsigned() || it->get<std::uint64_t>() > INT64_MAX) return std::nullopt;
    out.seq = it->get<std::int64_t>();
  }
  std::int64_t tenant_id = 0;
  if (const auto it = j.find("tenant_id"); it != j.end()) {
    if (!it->is_number_unsigned() || it->get<std::uint64_t>() > INT64_MAX) return std::nullopt;
    tenant_id = it->get<std::int64_t>();
  }
  if (!ok || !time || kind.empty() || decision.empty()) return std::nullopt;
  if (const auto it = j.find("seen"); it != j.end()) out.seen = ParseSeen(*it);
  out.event = Stored(ToUnix(*time), std::move(kind), device, mac, tenant_id, std::move(decision),
                     std::move(reason), std::string(line));
  return out;
}

Result<std::unique_ptr<AuditLog>> AuditLog::Open(const std::filesystem::path& file,
                                                 store::AuditStore* store, AuditOptions options) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) {
    return Error::Unavailable("cannot open audit log " + file.string() + ": " + std::strerror(errno));
  }
  std::error_code ec;
  auto key = std::filesystem::weakly_canonical(file, ec);
  return std::unique_ptr<AuditLog>(new AuditLog(fd, ec ? file.string() : key.string(), store, options));
}

AuditLog::AuditLog(int fd, std::string file_key, store::AuditStore* store, AuditOptions options)
    : fd_(fd), file_key_(std::move(file_key)), store_(store), options_(options),
      committer_([this] { Run(); }) {
  std::lock_guard lock(mu_);
  spare_records_.reserve(kMaxSpareRecords);
}

AuditLog::~AuditLog() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  queued_cv_.notify_one();
  committer_.join();  // commits the queue and hands its records to the copier
  if (copier_.joinable()) {
    {
      std::lock_guard lock(mu_);
      copier_stopping_ = true;
    }
    copy_cv_.notify_one();
    copier_.join();
  }
  ::fdatasync(fd_);
  ::close(fd_);
}

AuditRecord AuditLog::Submit(AuditRecord record, Durability durability,
                             std::optional<store::DeviceSeen> seen, Completion done) {
  Entry e{{}, durability, false, std::move(seen), std::move(done)};
  e.records.push_back(std::move(record));
  return Enqueue(std::move(e));
}

AuditRecord AuditLog::Submit(std::vector<AuditRecord> records, Durability durability,
                             std::optional<store::DeviceSeen> seen, Completion done) {
  Entry e{{}, durability, false, std::move(seen), std::move(done)};
  e.records.assign(std::make_move_iterator(records.begin()), std::make_move_iterator(records.end()));
  return Enqueue(std::move(e));
}

AuditRecord AuditLog::Enqueue(Entry entry) {
  AuditRecord spare;
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    // The first of its class in the queue sets (or moves earlier) the committer's deadline.
    auto& first = entry.durability == Durability::kDurable ? durable_queued_ : windowed_queued_;
    if (!first) {
      first = std::chrono::steady_clock::now();
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

// On the committer thread, once a batch is written: its records' memory goes back to
// Submit, cleared, so that Submit hands out what a new record would be.
void AuditLog::Recycle(std::vector<Entry>& batch) {
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

Status AuditLog::Record(AuditRecord record) {
  if (options_.hold_every_response || backlogged()) return Write(record, Durability::kDurable);
  Submit(std::move(record), Durability::kWindowed, std::nullopt, {});
  return Ok();
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
  if (!queue_.empty()) {
    commit_wanted_ = true;
    queued_cv_.notify_one();
  }
  copy_cv_.notify_one();
  committed_cv_.wait(lock, [&] { return copied_through_ >= target; });
}

std::shared_ptr<const core::Device> AuditLog::WithUncopiedSeen(std::shared_ptr<const core::Device> device) {
  std::lock_guard lock(seen_mu_);
  const auto it = uncopied_seen_.find(device->id);
  if (it == uncopied_seen_.end() || !store::SeenChanges(*device, it->second.seen)) return device;
  UncopiedSeen& uncopied = it->second;
  if (uncopied.base != device) {
    auto overlaid = std::make_shared<core::Device>(*device);
    store::ApplySeen(*overlaid, uncopied.seen);
    uncopied.base = std::move(device);
    uncopied.overlaid = std::move(overlaid);
  }
  return uncopied.overlaid;
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
  const auto run_bytes = crypto::RandomBytes(8);
  const std::string run = crypto::HexEncode(run_bytes.data(), run_bytes.size());
  // A line cut by a crash would swallow the next record appended to it.
  struct stat st {};
  if (::fstat(fd_, &st) == 0 && st.st_size > 0) {
    char last = '\n';
    const int rd = ::open(file_key_.c_str(), O_RDONLY | O_CLOEXEC);
    if (rd >= 0) {
      if (::pread(rd, &last, 1, st.st_size - 1) != 1) last = '\n';
      ::close(rd);
    }
    if (last != '\n') PG_TRY_STATUS(WriteLines("\n"));
  }
  {
    std::lock_guard lock(mu_);
    run_ = run;
  }
  if (store_ != nullptr) PG_TRY_STATUS(RecoverStoreCopy());
  std::lock_guard lock(mu_);
  claimed_ = true;
  if (store_ != nullptr && options_.store_copy_delay.count() > 0) {
    copier_ = std::thread([this] { RunCopier(); });
  }
  return Ok();
}

// A device id may have been reused while the server was down (a device removed, another
// added): a replayed last-seen update goes only to a device that still has the record's MAC.
bool AuditLog::SeenDeviceIsStill(const store::DeviceSeen& seen, const std::string& mac) {
  const auto parsed = core::MacAddress::Parse(mac);
  if (!parsed) return false;
  const auto device = store_->FindDevice(*parsed);
  return device && device->id == seen.device_id;
}

// The previous run's records after the mark may be missing from the store: a crash came
// before their copy. Its records are told apart from other processes' by their run id,
// and its sequence numbers say which ones the store has.
Status AuditLog::RecoverStoreCopy() {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    return Error::Unavailable("cannot stat audit log " + file_key_ + ": " + std::strerror(errno));
  }
  const std::int64_t size = st.st_size;
  PG_TRY(auto mark, store_->FindAuditCopyMark(file_key_));
  // Without a mark every record so far was copied before it was answered (the first start
  // with marks); a file shorter than the mark was truncated, and all of it is after the mark.
  const std::int64_t from = !mark ? size : mark->offset <= size ? mark->offset : 0;
  std::vector<store::StoredAuditEvent> missing;
  std::vector<store::DeviceSeen> seen;
  size_t pos = 0;
  if (mark) {
    std::string tail(static_cast<size_t>(size - from), '\0');
    std::ifstream in(file_key_, std::ios::binary);
    in.seekg(from);
    if (!in.read(tail.data(), static_cast<std::streamsize>(tail.size()))) {
      return Error::Unavailable("cannot read audit log " + file_key_ + " to catch up its store copy");
    }
    for (size_t nl; (nl = tail.find('\n', pos)) != std::string::npos; pos = nl + 1) {
      auto line = ParseStoredLine(std::string_view(tail.data() + pos, nl - pos));
      if (line && line->run == mark->run && line->seq > mark->seq) {
        if (line->seen && SeenDeviceIsStill(*line->seen, line->event.mac)) seen.push_back(std::move(*line->seen));
        missing.push_back(std::move(line->event));
      }
    }
    if (!missing.empty()) {
      spdlog::warn("audit log {}: copying {} records into the store that an unclean stop left out",
                   file_key_, missing.size());
    }
  }
  // This run starts after everything read here; its first record is number 1.
  return store_->AppendAuditBatch(
      missing, seen, store::AuditCopyMark{file_key_, from + static_cast<std::int64_t>(pos), run_, 0});
}

// Takes whatever is queued as one batch: while a batch syncs, the next one gathers, so the
// number of fdatasyncs follows the disk's pace rather than the request rate. Under a
// storm the commit delay lets each batch gather a little longer, as long as some open
// connection may still add to it.
void AuditLog::Run() {
  pthread_setname_np(pthread_self(), "pg-audit");
  std::vector<Entry> batch;
  for (;;) {
    bool claimed = false;
    {
      std::unique_lock lock(mu_);
      queued_cv_.wait(lock, [&] { return !queue_.empty() || stopping_; });
      if (queue_.empty()) return;  // stopping, and everything is committed
      const auto delay = options_.commit_delay;
      for (;;) {
        if (queue_.size() >= kMaxBatch || stopping_ || blocking_queued_ || commit_wanted_) break;
        // Nobody waits for a kWindowed record: it may wait out the window. A kDurable one's
        // response waits: only in a storm, and only while the batch can still grow.
        auto deadline = std::chrono::steady_clock::time_point::max();
        if (windowed_queued_) deadline = *windowed_queued_ + options_.max_unsynced;
        if (durable_queued_) {
          // A storm: the first waiting record came within the delay of the last commit.
          const bool storm = delay.count() > 0 && *durable_queued_ - last_commit_ < delay;
          if (!storm || siblings_ <= 0) break;
          deadline = std::min(deadline, *durable_queued_ + delay);
        }
        if (std::chrono::steady_clock::now() >= deadline) break;
        delaying_ = true;
        queued_cv_.wait_until(lock, deadline);
        delaying_ = false;
      }
      batch.swap(queue_);
      blocking_queued_ = false;
      durable_queued_.reset();
      windowed_queued_.reset();
      commit_wanted_ = false;
      claimed = claimed_;
    }
    Commit(batch, claimed);
    batch.clear();
  }
}

void AuditLog::Commit(std::vector<Entry>& batch, bool claimed) {
  std::string buffer;
  buffer.reserve(batch.size() * kLineReserve);
  std::vector<store::StoredAuditEvent> events;
  std::vector<store::DeviceSeen> seen;
  for (auto& entry : batch) {
    for (const auto& record : entry.records) {
      // The file is the record: the device's last-seen travels with the request's record
      // (the entry's last), so a copy a crash left undone can be redone from the file.
      const bool carries_seen = entry.seen && &record == &entry.records.back();
      std::string line;
      line.reserve(kLineReserve);
      record.AppendJson(line, claimed ? std::string_view(run_) : std::string_view(), claimed ? ++seq_ : 0,
                        carries_seen ? &*entry.seen : nullptr);
      buffer += line;
      buffer.push_back('\n');
      events.push_back(Stored(ToUnix(record.time), record.kind, record.device, record.mac, record.tenant_id,
                              record.decision, record.reason, std::move(line)));
    }
    if (entry.seen) seen.push_back(std::move(*entry.seen));
  }
  const auto write_started = std::chrono::steady_clock::now();
  Status st = WriteLines(buffer);
  if (st && ::fdatasync(fd_) != 0) {
    st = Error::Unavailable(std::string("audit log fsync failed: ") + std::strerror(errno));
  }
  commit_seconds_.Observe(std::chrono::steady_clock::now() - write_started);
  std::optional<store::AuditCopyMark> mark;
  if (st && claimed) {
    // O_APPEND leaves the offset at the end of this write, whoever appended before it.
    if (const off_t end = ::lseek(fd_, 0, SEEK_CUR); end >= 0) {
      mark = store::AuditCopyMark{file_key_, end, run_, seq_};
    }
  }
  const bool defer = claimed && store_ != nullptr && options_.store_copy_delay.count() > 0;
  // The store copy never runs ahead of the file.
  if (st && store_ != nullptr && !defer) {
    st = store_->AppendAuditBatch(events, seen, mark);
    if (!st) store_copy_failures_.fetch_add(1, std::memory_order_relaxed);
  }
  if (st && defer && !seen.empty()) {
    // Before the completions: the device's next request may come the moment its answer
    // leaves. (Only kDurable records carry a last-seen update: a device's own files.)
    std::lock_guard lock(seen_mu_);
    for (const auto& d : seen) uncopied_seen_[d.device_id] = UncopiedSeen{d, std::nullopt, nullptr, nullptr};
  }
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
    spdlog::error("audit log {}: {} records of answered requests are not on disk: {}", file_key_, unheard,
                  st.error().message);
  }
  queue_depth_.fetch_sub(records, std::memory_order_relaxed);
  Recycle(batch);  // before the batch counts as committed: a Drain finds its records reusable
  bool wake_copier = false;
  {
    std::lock_guard lock(mu_);
    committed_ += batch.size();
    last_commit_ = std::chrono::steady_clock::now();
    if (!defer) {
      copied_through_ = committed_;
    } else {
      // Failed batches go too (without records), so the copier counts their entries in order.
      if (copy_queue_.empty()) copy_since_ = last_commit_;
      if (st) copy_queued_events_ += events.size();
      copy_queue_.push_back(st ? CopyChunk{std::move(events), std::move(seen), std::move(mark), committed_}
                               : CopyChunk{{}, {}, std::nullopt, committed_});
      wake_copier = copy_queue_.size() == 1 || copy_queued_events_ >= kMaxBatch ||
                    copy_wanted_through_ > copied_through_;
    }
  }
  committed_cv_.notify_all();
  if (wake_copier) copy_cv_.notify_one();
}

// Copies what the committer hands over, once the oldest of it is store_copy_delay old,
// earlier when kMaxBatch records wait or a Drain or the shutdown waits.
void AuditLog::RunCopier() {
  pthread_setname_np(pthread_self(), "pg-audit-copy");
  std::vector<CopyChunk> chunks;
  for (;;) {
    bool must_finish = false;
    {
      std::unique_lock lock(mu_);
      copy_cv_.wait(lock, [&] { return !copy_queue_.empty() || copier_stopping_; });
      if (copy_queue_.empty()) return;  // stopping, and everything is copied
      copy_cv_.wait_until(lock, copy_since_ + options_.store_copy_delay, [&] {
        return copier_stopping_ || copy_queued_events_ >= kMaxBatch ||
               copy_wanted_through_ > copied_through_;
      });
      chunks.swap(copy_queue_);
      copy_queued_events_ = 0;
      must_finish = copier_stopping_ || copy_wanted_through_ > copied_through_;
    }
    CopyChunk all = Merge(chunks);
    chunks.clear();
    const Status st = copy_suspended_ ? Ok() : Copy(all);
    if (!st) {
      store_copy_failures_.fetch_add(1, std::memory_order_relaxed);
      const size_t waiting = all.events.size();
      if (!must_finish && waiting < kMaxUncopied) {
        spdlog::warn("audit log {}: copying {} records into the store failed ({}); retrying",
                     file_key_, waiting, st.error().message);
        std::unique_lock lock(mu_);
        // Back in front of what came meanwhile, tried again after another delay.
        copy_queued_events_ += waiting;
        copy_queue_.insert(copy_queue_.begin(), std::move(all));
        copy_since_ = std::chrono::steady_clock::now();
        copy_cv_.wait_for(lock, std::max<std::chrono::steady_clock::duration>(options_.store_copy_delay,
                                                                              std::chrono::seconds(1)),
                          [&] { return copier_stopping_ || copy_wanted_through_ > copied_through_; });
        continue;
      }
      // Their mark stays in the store, so the next server start copies them from the file.
      copy_suspended_ = true;
      spdlog::error("audit log {}: copying {} records into the store failed ({}); the store copy "
                    "stops until the next server start, which copies them from the file",
                    file_key_, waiting, st.error().message);
    }
    {
      std::lock_guard lock(mu_);
      copied_through_ = all.through;
    }
    committed_cv_.notify_all();
  }
}

// The chunks as one, in order: their records, the last mark, the last entry count.
AuditLog::CopyChunk AuditLog::Merge(std::vector<CopyChunk>& chunks) {
  CopyChunk all;
  for (auto& c : chunks) {
    std::move(c.events.begin(), c.events.end(), std::back_inserter(all.events));
    std::move(c.seen.begin(), c.seen.end(), std::back_inserter(all.seen));
    if (c.mark) all.mark = std::move(c.mark);
    all.through = c.through;
  }
  return all;
}

Status AuditLog::Copy(const CopyChunk& chunk) {
  PG_TRY_STATUS(store_->AppendAuditBatch(chunk.events, chunk.seen, chunk.mark));
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(seen_mu_);
  for (const auto& d : chunk.seen) {
    // Unless a later update of the device came meanwhile, this one is in the store now.
    if (auto it = uncopied_seen_.find(d.device_id); it != uncopied_seen_.end() && it->second.seen == d) {
      it->second.copied = now;
    }
  }
  std::erase_if(uncopied_seen_, [&](const auto& kv) {
    return kv.second.copied && now - *kv.second.copied > kCopiedSeenKeep;
  });
  return Ok();
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
