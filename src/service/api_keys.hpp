// Operator API keys: creation (the key is shown once and stored as its SHA-256), listing,
// revocation and authentication, shared by `provgate apikey ...` and the admin listener.
//
// A key reads `pgk_<prefix>_<secret>`: the prefix (8 characters of [a-z2-7], 40 bits) is
// public and names the key in listings and audit records; the secret (32 characters, 160
// bits of libsodium randomness) never leaves the response that created it. Keys are high
// entropy, so one SHA-256 is the right hash (no password stretching needed), and the stored
// hash is compared in constant time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/audit_log.hpp"
#include "base/clock.hpp"
#include "service/admin.hpp"
#include "store/inventory.hpp"
#include "store/operator_store.hpp"

namespace provgate::service {

// admin: everything, platform scope only. tenant-admin: one tenant's devices, lines,
// variables, credentials and audit. support: read, reactivate and unlock (platform or one
// tenant). auditor: audit read only (platform or one tenant).
enum class Role { kAdmin, kTenantAdmin, kSupport, kAuditor };
std::string_view RoleName(Role r);
Result<Role> ParseRole(std::string_view text);

inline constexpr std::string_view kApiKeyMarker = "pgk_";
inline constexpr size_t kApiKeyPrefixLength = 8;
inline constexpr size_t kApiKeySecretLength = 32;
inline constexpr size_t kApiKeyLength = 4 + kApiKeyPrefixLength + 1 + kApiKeySecretLength;

// The prefix of a well-formed key text, nothing for anything else (no allocation beyond
// the result, no dependence on secret bytes beyond their alphabet).
std::optional<std::string> ApiKeyPrefix(std::string_view key);

// Who an authenticated request acts as.
struct Principal {
  std::int64_t key_row = 0;
  std::string key_id;  // the public prefix
  Role role = Role::kAuditor;
  std::optional<TenantScope> tenant;  // nullopt = platform
  // "api:<prefix>", the actor of audit records.
  std::string actor() const { return "api:" + key_id; }
};

// Why authentication failed, for the audit record (the client always sees one answer).
enum class AuthFailure { kMalformed, kUnknownKey, kWrongSecret, kRevoked, kExpired, kTenantGone };
std::string_view AuthFailureName(AuthFailure f);

struct NewApiKey {
  store::ApiKeyRecord record;
  std::string tenant_name;  // "" for platform keys
  std::string key;          // the only time it exists outside the client
};

struct ApiKeyView {
  store::ApiKeyRecord record;  // hash included: callers show only the fields meant to be shown
  std::string tenant_name;
};

class ApiKeys {
 public:
  // The references must outlive this object. `actor` names who acts in audit records.
  ApiKeys(store::OperatorStore& keys, store::Inventory& store, audit::AuditLog& audit, const Clock& clock,
          std::string actor);

  // role admin needs no tenant; tenant-admin needs one; support and auditor take either.
  // expires_days 0 = never; otherwise 1-3650. Audited (never the key).
  Result<NewApiKey> Add(const std::string& role, const std::string& tenant, int expires_days, const std::string& name);
  Result<std::vector<ApiKeyView>> List();
  Status Revoke(const std::string& prefix);

  // Checks a presented key. Unknown prefix and wrong secret cost the same (a hash and a
  // comparison against a stored or a dummy hash). Records last use at most once a minute.
  struct Outcome {
    std::optional<Principal> principal;
    AuthFailure failure = AuthFailure::kMalformed;  // when principal is empty
    std::string prefix;                             // the presented prefix, when the key was well formed
  };
  Outcome Authenticate(std::string_view key);

 private:
  store::OperatorStore& keys_;
  store::Inventory& store_;
  audit::AuditLog& audit_;
  const Clock& clock_;
  std::string actor_;
};

}  // namespace provgate::service
