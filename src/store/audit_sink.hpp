// The store's copy of the audit trail: records appended in batches with the last-seen
// values of the devices they answered, and the mark of how far the audit file is copied.
// Append-only. Implementations are thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "core/model.hpp"
#include "store/named_reads.hpp"

namespace provgate::store {

// One audit record as stored; `json` is the full record, the other columns are indexed
// copies for queries.
struct StoredAuditEvent {
  std::int64_t id = 0;
  std::int64_t time = 0;  // unix seconds
  std::string kind;       // "request" or "admin"
  std::string mac;        // may be empty
  // The tenant that held the device or object when the record was written (its "tenant_id").
  std::optional<std::int64_t> tenant_id;
  std::string decision;  // allow | deny | info
  std::string reason;
  std::string json;
};

// How far the server's audit file is copied into the store (kept by audit::AuditLog, which
// copies the server's records in batches after their file commit). Each record the server
// writes carries its run (one per server start) and a sequence number; every record of
// `run` up to `seq` is in the store, and the first record after those starts at or after
// byte `offset` of `file`. After a crash the run's later records are copied from the file.
struct AuditCopyMark {
  std::string file;
  std::int64_t offset = 0;
  std::string run;
  std::int64_t seq = 0;
};

// What an answered device request records on its device (`device show`, anomaly locks).
struct DeviceSeen {
  std::int64_t device_id = 0;
  std::int64_t time = 0;  // unix seconds
  std::string ip;
  std::string user_agent;
  std::string firmware;  // "" when the User-Agent did not say

  bool operator==(const DeviceSeen&) const = default;
};

// Writes a last-seen update into a device as AuditSink::AppendAuditBatch writes it into the
// store: an empty firmware keeps the recorded one.
inline void ApplySeen(core::Device& device, const DeviceSeen& seen) {
  device.last_seen_at = seen.time;
  device.last_seen_ip = seen.ip;
  device.last_user_agent = seen.user_agent;
  if (!seen.firmware.empty()) device.firmware = seen.firmware;
}
// Whether ApplySeen would change anything.
inline bool SeenChanges(const core::Device& device, const DeviceSeen& seen) {
  return device.last_seen_at != seen.time || device.last_seen_ip != seen.ip ||
         device.last_user_agent != seen.user_agent || (!seen.firmware.empty() && device.firmware != seen.firmware);
}

class AuditSink {
 public:
  virtual ~AuditSink() = default;

  virtual Status AppendAudit(const StoredAuditEvent& e) = 0;
  // One transaction for a batch of the audit committer: the events, and the last-seen
  // columns of the devices the batch's requests were answered for (for a device listed
  // twice the later entry wins; an empty firmware keeps the recorded one; unknown ids are
  // skipped). The seen updates touch only their own columns, like DeviceWrites, and do not
  // change ProvenReads::DataGeneration. `mark`, when given, is recorded in the same
  // transaction.
  virtual Status AppendAuditBatch(const std::vector<StoredAuditEvent>& events, const std::vector<DeviceSeen>& seen,
                                  const std::optional<AuditCopyMark>& mark) = 0;
  virtual Result<std::optional<AuditCopyMark>> FindAuditCopyMark(const std::string& file) = 0;
  // Newest first (append order, not `time`), at most `limit` (> 0, else kInvalidArgument)
  // events. An empty mac lists events of every device.
  virtual Result<std::vector<StoredAuditEvent>> ListAudit(const std::string& mac, int limit) = 0;
};

// What audit::AuditLog copies into: the sink, and the named lookup that checks a replayed
// last-seen update still belongs to the device with the record's MAC.
class AuditStore : public AuditSink, public virtual NamedReads {};

}  // namespace provgate::store
