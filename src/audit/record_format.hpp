// The audit file's line format: one JSON object per line, written by AuditRecord::AppendJson
// and read back by ParseStoredLine. Keys are written in sorted order, empty strings are left
// out, and numbers (bytes, duration_ms, status) appear only in request records. A server's
// records also carry "run" and "seq" (AuditLog::ClaimForServer), and a request's record the
// last-seen update committed with it ("seen"). Every record the committer writes carries its
// place in its writer's hash chain ("chain_id", "chain_n", on a chain's first record
// "chain_link") and, last on the line and out of sorted order, "chain": the hash that seals
// everything before it (chain.hpp). A server's "checkpoint" records sign its chain's head
// ("detail": head, key, signature). ParseStoredLine ignores the chain fields.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "audit/record.hpp"
#include "store/store.hpp"

namespace provgate::audit {

// A line of the audit file: the record as the store keeps it (the indexed columns taken
// from it) and, for a record the server wrote, its run and sequence number.
struct StoredLine {
  store::StoredAuditEvent event;
  std::string run;  // empty for records of other processes
  std::int64_t seq = 0;
  // The last-seen update committed with a request's record ("seen"), replayed into the store
  // with the record when a crash came before its copy. A malformed one is left out.
  std::optional<store::DeviceSeen> seen;
};
// Nothing when the line is not a record this log wrote. Input may be anything (the file is
// shared with other processes and may be cut by a crash).
std::optional<StoredLine> ParseStoredLine(std::string_view line);

// The record as the store keeps it, with `line`, its form in the file, as the full record.
store::StoredAuditEvent StoredEvent(const AuditRecord& record, std::string line);

}  // namespace provgate::audit
