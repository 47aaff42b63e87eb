// What the committer hands on once a batch of records is in the audit file: the batch as the
// store keeps it, for its store copy. Shared by the committer (which produces batches) and
// the store copier (which consumes them); neither knows the other.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "base/result.hpp"
#include "store/store.hpp"

namespace provgate::audit {

struct CommittedBatch {
  std::vector<store::StoredAuditEvent> events;  // empty when the batch's write failed
  std::vector<store::DeviceSeen> seen;          // the last-seen updates committed with it
  // Where the file stood after the batch, for a server's numbered records.
  std::optional<store::AuditCopyMark> mark;
  bool numbered = false;      // the records carry the server's run and sequence numbers
  std::uint64_t through = 0;  // submissions committed up to and including this batch
};

// Where the committer hands each committed batch, on the committer thread.
class BatchSink {
 public:
  virtual ~BatchSink() = default;
  // After the batch's write and sync succeeded, before its completions run: Ok, or the
  // failure its completions get instead.
  virtual Status Synced(const CommittedBatch& batch) = 0;
  // After the completions of every batch, a failed one too (then with `ok` false and no
  // events), in commit order.
  virtual void Committed(CommittedBatch batch, bool ok) = 0;
};

}  // namespace provgate::audit
