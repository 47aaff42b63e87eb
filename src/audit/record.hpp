// One audit record: what a request or an admin action leaves in the audit trail. The lowest
// layer of the audit module: the format, the committer and the store copier build on it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/clock.hpp"
#include "base/result.hpp"
#include "store/store.hpp"

namespace provgate::audit {

// When a record must be on disk (invariant 7, docs/security.md).
enum class Durability {
  // Synced at most AuditOptions::max_unsynced after its submission (plus the sync's own
  // time); its response does not wait. Secret-free files and refusals.
  kWindowed,
  // Synced before its completion runs, which its response waits for: responses that release
  // a secret, and requests that changed state.
  kDurable,
};

// A record's place in its writer's hash chain (chain.hpp), as AppendJson writes it.
struct ChainPosition {
  std::string_view id;
  std::int64_t n = 0;
  std::string_view link;  // record 1 only; may be empty
};

struct AuditRecord {
  TimePoint time;
  std::string kind = "request";  // request | tls | admin | lifecycle
  std::string listener;
  std::string peer;  // "ip:port"
  std::string method;
  std::string file;  // requested target, secrets redacted
  std::string user_agent;
  std::string identity_source;  // client-cert | none
  std::string cert_subject;
  std::string mac;       // authenticated MAC, if any
  std::string url_mac;   // MAC named by the request path, if any (a claim only)
  std::string device;    // device MAC when the identity matched a known device
  std::string decision;  // allow | deny | info
  std::string reason;
  int status = 0;
  std::uint64_t bytes = 0;
  double duration_ms = 0;
  std::string actor;  // admin actions: who ("cli", "api:<key prefix>")
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
  // (AuditLog::ClaimForServer); `seen` is the last-seen update committed with a request;
  // `chain` its place in the writer's chain (the committer then seals the line, chain.hpp).
  // The line format is record_format.hpp's; this is its writer (record_format.cpp).
  void AppendJson(std::string& out, std::string_view run = {}, std::int64_t seq = 0,
                  const store::DeviceSeen* seen = nullptr, const ChainPosition* chain = nullptr) const;
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
AuditRecord InfoRecord(TimePoint time, std::string kind, std::string actor, std::string what, std::string device,
                       nlohmann::json detail);

// Called once per submission, on the committer thread: Ok once the records are in the
// file and on disk and, unless the server's copy is deferred
// (AuditOptions::store_copy_delay), copied to the store; else the first failure.
using Completion = std::function<void(const Status&)>;

}  // namespace provgate::audit
