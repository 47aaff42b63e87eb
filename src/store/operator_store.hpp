// What the operator plane reads and writes beside the fleet itself: API keys, and the
// filtered, paginated queries of devices and audit records behind the REST API and the
// CLI. Every query that can be scoped to a tenant carries the tenant in its SQL predicate,
// so a tenant-scoped caller never receives another tenant's row to filter out afterwards.
// Implementations are thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "core/model.hpp"
#include "store/audit_sink.hpp"

namespace provgate::store {

// An operator API key as stored: only the SHA-256 of the whole key, never the key.
struct ApiKeyRecord {
  std::int64_t id = 0;
  std::string prefix;                     // 8 characters, unique, public: names the key
  std::string hash;                       // lowercase hex SHA-256 of the whole key text
  std::string role;                       // admin | tenant-admin | support | auditor
  std::optional<std::int64_t> tenant_id;  // nullopt = platform scope
  std::string name;                       // operator's label
  std::string created_by;                 // actor who created it
  std::int64_t created_at = 0;
  std::optional<std::int64_t> expires_at;
  std::optional<std::int64_t> last_used_at;
  std::optional<std::int64_t> revoked_at;
};

// A device without any secret: what lists show. The has_* flags say whether a credential
// is stored, never what it is.
struct DeviceSummary {
  core::Device device;  // secrets (config_key, digest_password), token_hash and vars left empty
  bool has_url_token = false;
  bool has_digest_password = false;
  bool has_config_key = false;
};

struct DeviceQuery {
  // Scope or filter: only this tenant's devices. `stock_only` instead lists devices of no
  // tenant (a tenant-scoped caller never sets it).
  std::optional<std::int64_t> tenant_id;
  bool stock_only = false;
  // The effective state (an assigned device past its window is expired) as of `now`.
  std::optional<core::DeviceState> state;
  std::int64_t now = 0;
  std::string vendor;  // "" = any
  std::string model;   // "" = any
  std::optional<bool> locked;
  std::optional<std::int64_t> seen_since;   // last_seen_at >= (never-seen devices excluded)
  std::optional<std::int64_t> seen_before;  // last_seen_at < or never seen
  std::string after_mac;                    // cursor: devices with a MAC above this one, in MAC order
  int limit = 100;                          // 1-1000
};

struct AuditQuery {
  std::string mac;  // "" = any device
  // Scope or filter: records written while this tenant held their device or object (the
  // records' tenant_id), whoever holds the device now.
  std::optional<std::int64_t> tenant_id;
  std::string actor;                      // "" = any
  std::string decision;                   // "" = any; allow | deny | info
  std::optional<std::int64_t> since;      // time >= (unix seconds)
  std::optional<std::int64_t> until;      // time <
  std::optional<std::int64_t> before_id;  // cursor: records older than this id
  int limit = 100;                        // 1-1000
};

class OperatorStore {
 public:
  virtual ~OperatorStore() = default;

  // kAlreadyExists when the prefix is taken; kNotFound when tenant_id names no tenant.
  virtual Result<ApiKeyRecord> AddApiKey(const ApiKeyRecord& key) = 0;
  virtual Result<ApiKeyRecord> FindApiKey(const std::string& prefix) = 0;  // kNotFound
  // All keys (tenant_id nullopt) or only that tenant's, by creation.
  virtual Result<std::vector<ApiKeyRecord>> ListApiKeys(std::optional<std::int64_t> tenant_id) = 0;
  // Marks the key revoked at `now`; kNotFound when no unrevoked key has the prefix (within
  // the tenant when one is given).
  virtual Status RevokeApiKey(const std::string& prefix, std::optional<std::int64_t> tenant_id, std::int64_t now) = 0;
  // Records a successful use.
  virtual Status TouchApiKey(std::int64_t id, std::int64_t now) = 0;

  // Ordered by MAC; at most query.limit rows. kInvalidArgument for a limit outside 1-1000.
  virtual Result<std::vector<DeviceSummary>> QueryDevices(const DeviceQuery& query) = 0;
  // Newest first (append order); at most query.limit rows.
  virtual Result<std::vector<StoredAuditEvent>> QueryAudit(const AuditQuery& query) = 0;

  // A cheap round trip to the data: what readiness checks.
  virtual Status Ping() = 0;
};

}  // namespace provgate::store
