#include "service/api_keys.hpp"

#include <fmt/format.h>

#include "crypto/random.hpp"
#include "defense/tokens.hpp"

namespace provgate::service {
namespace {

constexpr std::int64_t kDay = 86400;
constexpr std::int64_t kTouchEvery = 60;  // seconds between last-used writes of one key
constexpr int kMaxAddAttempts = 4;        // prefix collisions (40 bits) are rare

bool IsBase32(std::string_view s) {
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7'))) return false;
  }
  return true;
}

// Compared against when the prefix is unknown, so that case costs what a wrong secret does.
const std::string& DummyHash() {
  static const std::string hash = crypto::Sha256Hex("pgk_unknown_key");
  return hash;
}

}  // namespace

std::string_view RoleName(Role r) {
  switch (r) {
    case Role::kAdmin: return "admin";
    case Role::kTenantAdmin: return "tenant-admin";
    case Role::kSupport: return "support";
    case Role::kAuditor: return "auditor";
  }
  return "auditor";
}

Result<Role> ParseRole(std::string_view text) {
  for (Role r : {Role::kAdmin, Role::kTenantAdmin, Role::kSupport, Role::kAuditor}) {
    if (text == RoleName(r)) return r;
  }
  return Error::InvalidArgument("role must be one of admin, tenant-admin, support, auditor");
}

std::string_view AuthFailureName(AuthFailure f) {
  switch (f) {
    case AuthFailure::kMalformed: return "malformed key";
    case AuthFailure::kUnknownKey: return "unknown key";
    case AuthFailure::kWrongSecret: return "wrong secret";
    case AuthFailure::kRevoked: return "revoked key";
    case AuthFailure::kExpired: return "expired key";
    case AuthFailure::kTenantGone: return "key of a removed tenant";
  }
  return "malformed key";
}

std::optional<std::string> ApiKeyPrefix(std::string_view key) {
  if (key.size() != kApiKeyLength || !key.starts_with(kApiKeyMarker)) return std::nullopt;
  const auto prefix = key.substr(kApiKeyMarker.size(), kApiKeyPrefixLength);
  if (key[kApiKeyMarker.size() + kApiKeyPrefixLength] != '_') return std::nullopt;
  const auto secret = key.substr(kApiKeyMarker.size() + kApiKeyPrefixLength + 1);
  if (!IsBase32(prefix) || !IsBase32(secret)) return std::nullopt;
  return std::string(prefix);
}

ApiKeys::ApiKeys(store::OperatorStore& keys, store::Inventory& store, audit::AuditLog& audit, const Clock& clock,
                 std::string actor)
    : keys_(keys), store_(store), audit_(audit), clock_(clock), actor_(std::move(actor)) {}

Result<NewApiKey> ApiKeys::Add(const std::string& role_text, const std::string& tenant_name, int expires_days,
                               const std::string& name) {
  PG_TRY(Role role, ParseRole(role_text));
  if (role == Role::kAdmin && !tenant_name.empty()) {
    return Error::InvalidArgument("role admin is platform-wide; use tenant-admin for one tenant");
  }
  if (role == Role::kTenantAdmin && tenant_name.empty()) {
    return Error::InvalidArgument("role tenant-admin needs --tenant");
  }
  if (expires_days < 0 || expires_days > 3650) {
    return Error::InvalidArgument("expiry must be 0 (never) to 3650 days");
  }
  if (name.size() > 128) return Error::InvalidArgument("name is longer than 128 characters");
  for (char c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return Error::InvalidArgument("name must not contain control characters");
    }
  }
  NewApiKey out;
  store::ApiKeyRecord& r = out.record;
  if (!tenant_name.empty()) {
    auto t = store_.FindTenant(tenant_name);
    if (!t) return Error::NotFound("unknown tenant '" + tenant_name + "' (see: provgate tenant list)");
    r.tenant_id = t->id;
    out.tenant_name = tenant_name;
  }
  const auto now = ToUnix(clock_.Now());
  r.role = std::string(RoleName(role));
  r.name = name;
  r.created_by = actor_;
  r.created_at = now;
  if (expires_days > 0) r.expires_at = now + expires_days * kDay;
  for (int attempt = 0;; ++attempt) {
    r.prefix = defense::GenerateToken().substr(0, kApiKeyPrefixLength);
    out.key = fmt::format("{}{}_{}", kApiKeyMarker, r.prefix, defense::GenerateToken());
    r.hash = crypto::Sha256Hex(out.key);
    auto added = keys_.AddApiKey(r);
    if (added) {
      r = std::move(*added);
      break;
    }
    if (added.error().code != ErrorCode::kAlreadyExists || attempt + 1 >= kMaxAddAttempts) {
      return added.error();
    }
  }
  nlohmann::json detail = {{"key_id", r.prefix}, {"role", r.role}, {"name", r.name}};
  if (!out.tenant_name.empty()) detail["tenant"] = out.tenant_name;
  if (r.expires_at) detail["expires_at"] = *r.expires_at;
  auto record = audit::InfoRecord(clock_.Now(), "admin", actor_, "api key added", "", std::move(detail));
  record.tenant_id = r.tenant_id.value_or(0);
  PG_TRY_STATUS(audit_.Write(record, audit::Durability::kDurable));
  return out;
}

Result<std::vector<ApiKeyView>> ApiKeys::List() {
  PG_TRY(auto keys, keys_.ListApiKeys(std::nullopt));
  PG_TRY(auto tenants, store_.ListTenants());
  std::vector<ApiKeyView> out;
  for (auto& k : keys) {
    ApiKeyView v{std::move(k), ""};
    for (const auto& t : tenants) {
      if (v.record.tenant_id && t.id == *v.record.tenant_id) v.tenant_name = t.name;
    }
    out.push_back(std::move(v));
  }
  return out;
}

Status ApiKeys::Revoke(const std::string& prefix) {
  if (prefix.size() != kApiKeyPrefixLength || !IsBase32(prefix)) {
    return Error::InvalidArgument("'" + prefix + "' is not a key id (8 characters, see: provgate apikey list)");
  }
  PG_TRY_STATUS(keys_.RevokeApiKey(prefix, std::nullopt, ToUnix(clock_.Now())));
  return audit_.Write(audit::InfoRecord(clock_.Now(), "admin", actor_, "api key revoked", "", {{"key_id", prefix}}),
                      audit::Durability::kDurable);
}

ApiKeys::Outcome ApiKeys::Authenticate(std::string_view key) {
  Outcome out;
  auto prefix = ApiKeyPrefix(key);
  if (!prefix) return out;
  out.prefix = *prefix;
  const std::string presented = crypto::Sha256Hex(key);
  auto found = keys_.FindApiKey(*prefix);
  const bool match = crypto::ConstantTimeEquals(presented, found ? found->hash : DummyHash());
  if (!found) {
    out.failure = AuthFailure::kUnknownKey;
    return out;
  }
  if (!match) {
    out.failure = AuthFailure::kWrongSecret;
    return out;
  }
  const auto now = ToUnix(clock_.Now());
  if (found->revoked_at) {
    out.failure = AuthFailure::kRevoked;
    return out;
  }
  if (found->expires_at && now >= *found->expires_at) {
    out.failure = AuthFailure::kExpired;
    return out;
  }
  auto role = ParseRole(found->role);
  if (!role) return out;
  Principal p;
  p.key_row = found->id;
  p.key_id = found->prefix;
  p.role = *role;
  if (found->tenant_id) {
    auto t = store_.GetTenant(*found->tenant_id);
    if (!t) {
      out.failure = AuthFailure::kTenantGone;
      return out;
    }
    p.tenant = TenantScope{t->id, t->name};
  }
  if (!found->last_used_at || now - *found->last_used_at >= kTouchEvery) {
    (void)keys_.TouchApiKey(found->id, now);  // bookkeeping only: a failed write is no refusal
  }
  out.principal = std::move(p);
  return out;
}

}  // namespace provgate::service
