#include "store/cached_audit_store.hpp"

namespace provgate::store {

Status CachedAuditStore::AppendAuditBatch(const std::vector<StoredAuditEvent>& events,
                                          const std::vector<DeviceSeen>& seen,
                                          const std::optional<AuditCopyMark>& mark) {
  PG_TRY_STATUS(inner_.AppendAuditBatch(events, seen, mark));
  if (!seen.empty()) cache_.ApplySeen(seen);
  return Ok();
}

}  // namespace provgate::store
