// Lifecycle operations of service::Admin: assign, retire, re-activate, purge, tenant policy.
#include <fmt/format.h>

#include <cmath>

#include "core/lifecycle.hpp"
#include "crypto/random.hpp"
#include "defense/tokens.hpp"
#include "encrypt/encrypt.hpp"
#include "net/ip_address.hpp"
#include "pipeline/render_file.hpp"
#include "service/admin.hpp"

namespace provgate::service {
namespace {

constexpr std::int64_t kDay = 86400;

}  // namespace

Result<std::string> Admin::GeneratePassword(const core::Tenant* tenant) {
  core::Tenant defaults;
  const core::Tenant& t = tenant ? *tenant : defaults;
  const std::string_view alphabet =
      t.password_alphabet.empty() ? crypto::kDefaultPasswordAlphabet : std::string_view(t.password_alphabet);
  return crypto::RandomPassword(static_cast<size_t>(t.password_length), alphabet);
}

Status Admin::LifecycleAudit(const core::Device& d, const std::string& what, nlohmann::json detail) {
  auto r = audit::InfoRecord(clock_.Now(), "lifecycle", actor_, what, d.mac.str(), std::move(detail));
  r.tenant_id = d.tenant_id.value_or(0);
  return audit_.Write(r, audit::Durability::kDurable);
}

Result<core::Tenant> Admin::UpdateTenantPolicy(const std::string& name, const TenantPolicyChange& c) {
  PG_TRY(core::Tenant t, FindTenantInScope(name));
  if (c.window_days) {
    if (*c.window_days < 1 || *c.window_days > 365)
      return Error::InvalidArgument("window days must be between 1 and 365");
    t.window_days = *c.window_days;
  }
  if (c.password_policy) {
    PG_TRY(t.password_policy, core::ParsePasswordPolicy(*c.password_policy));
  }
  if (c.confirm_grace_seconds) {
    if (*c.confirm_grace_seconds < 0 || *c.confirm_grace_seconds > 30 * kDay) {
      return Error::InvalidArgument("confirmation grace must be 0 (next fetch) to 2592000 seconds");
    }
    t.confirm_grace_seconds = *c.confirm_grace_seconds;
  }
  if (c.password_length) {
    if (*c.password_length < 12 || *c.password_length > 64) {
      return Error::InvalidArgument("password length must be between 12 and 64");
    }
    t.password_length = *c.password_length;
  }
  if (c.password_alphabet) {
    // Proves the alphabet usable (no duplicates, at least 2 symbols, no control characters).
    for (char ch : *c.password_alphabet) {
      const auto u = static_cast<unsigned char>(ch);
      if (u < 0x21 || u > 0x7e)
        return Error::InvalidArgument("password alphabet must be printable ASCII without spaces");
    }
    if (!c.password_alphabet->empty()) PG_TRY_STATUS(crypto::RandomPassword(16, *c.password_alphabet));
    t.password_alphabet = *c.password_alphabet;
  }
  if (c.min_strength) {
    PG_TRY(t.min_strength, core::ParseIdentityStrength(*c.min_strength));
  }
  if (c.ip_ranges) {
    auto parsed = net::IpSet::Parse(*c.ip_ranges);
    if (!parsed) return Error::InvalidArgument("ip ranges: " + parsed.error().message);
    t.ip_ranges = std::move(*parsed);
  }
  if (c.ip_as_identity) t.ip_as_identity = *c.ip_as_identity;
  if (c.allow_plain_http) t.allow_plain_http = *c.allow_plain_http;
  if (c.anomaly_lock) t.anomaly_lock = *c.anomaly_lock;
  if (c.lock_on_misuse) t.lock_on_misuse = *c.lock_on_misuse;
  if (t.ip_as_identity && t.ip_ranges.empty()) {
    return Error::InvalidArgument("--ip-as-identity needs --ip-ranges: which sources identify devices?");
  }
  if (c.retention_days) {
    if (*c.retention_days < 0 || *c.retention_days > 3650)
      return Error::InvalidArgument("retention days must be 0-3650");
    t.retention_days = *c.retention_days;
  }
  // Enough entropy whatever the settings: length * log2(alphabet) >= 64 bits.
  const size_t symbols =
      t.password_alphabet.empty() ? crypto::kDefaultPasswordAlphabet.size() : t.password_alphabet.size();
  if (static_cast<double>(t.password_length) * std::log2(static_cast<double>(symbols)) < 64.0) {
    return Error::InvalidArgument(
        "password length and alphabet give less than 64 bits of entropy; use a longer password or more symbols");
  }
  PG_TRY_STATUS(store_.UpdateTenant(t));
  PG_TRY_STATUS(Audit("tenant policy changed", "", t.id,
                      {{"tenant", t.name},
                       {"window_days", t.window_days},
                       {"password_policy", core::PasswordPolicyName(t.password_policy)},
                       {"confirm_grace_seconds", t.confirm_grace_seconds},
                       {"password_length", t.password_length},
                       {"retention_days", t.retention_days},
                       {"min_strength", core::IdentityStrengthName(t.min_strength)},
                       {"ip_ranges", t.ip_ranges.ToStrings()},
                       {"ip_as_identity", t.ip_as_identity},
                       {"allow_plain_http", t.allow_plain_http},
                       {"anomaly_lock", t.anomaly_lock},
                       {"lock_on_misuse", t.lock_on_misuse}}));
  return t;
}

Result<core::Device> Admin::AssignDevice(const std::string& mac, const std::string& tenant_name) {
  PG_TRY(auto d, FindDevice(mac));
  if (d.state != core::DeviceState::kStock) {
    return Error::FailedPrecondition(
        fmt::format("device {} is {}, not in stock; use `provgate device reactivate` to give it a new window",
                    d.mac.str(), core::DeviceStateName(d.state)));
  }
  PG_TRY(auto found, FindTenantInScope(tenant_name));
  const core::Tenant* tenant = &found;
  const auto now = ToUnix(clock_.Now());
  d.tenant_id = tenant->id;
  d.state = core::DeviceState::kAssigned;
  d.window_opens = now;
  d.window_expires = now + std::int64_t{tenant->window_days} * kDay;
  d.state_changed_at = now;
  PG_TRY(auto lines, store_.ListLines(d.id));
  PG_TRY_STATUS(RefuseLintErrors(d, *tenant, lines));
  PG_TRY_STATUS(store_.UpdateDevice(d));
  PG_TRY_STATUS(LifecycleAudit(d, "assigned",
                               {{"from", "stock"}, {"tenant", tenant->name}, {"window_expires", *d.window_expires}}));
  return d;
}

Result<core::Device> Admin::RetireDevice(const std::string& mac) {
  PG_TRY(auto d, FindDevice(mac));
  const auto from = core::EffectiveState(d, ToUnix(clock_.Now()));
  if (from == core::DeviceState::kRetired)
    return Error::FailedPrecondition("device " + d.mac.str() + " is already retired");
  const auto now = ToUnix(clock_.Now());
  PG_TRY(bool changed, writes_.TransitionState(d.id, d.state, core::DeviceState::kRetired, now));
  if (!changed) return Error::Unavailable("device " + d.mac.str() + " changed meanwhile; try again");
  d.state = core::DeviceState::kRetired;
  d.state_changed_at = now;
  PG_TRY_STATUS(LifecycleAudit(d, "retired", {{"from", core::DeviceStateName(from)}}));
  return d;
}

Result<Reactivation> Admin::ReactivateDevice(const std::string& mac) {
  PG_TRY(auto d, FindDevice(mac));
  if (!d.tenant_id) {
    return Error::FailedPrecondition("device " + d.mac.str() +
                                     " is in stock; assign it to a tenant first (provgate device assign)");
  }
  PG_TRY(auto tenant, store_.GetTenant(*d.tenant_id));
  PG_TRY(auto lines, store_.ListLines(d.id));
  const auto from = core::EffectiveState(d, ToUnix(clock_.Now()));
  const auto now = ToUnix(clock_.Now());
  Reactivation out;
  for (auto& l : lines) {
    PG_TRY(auto pw, GeneratePassword(&tenant));
    l.password = std::move(pw);
    l.delivered_at.reset();
    ++out.new_passwords;
  }
  out.url_token = defense::GenerateToken();
  d.token_hash = defense::HashToken(out.url_token);
  // Whoever holds a leaked digest password or config key must not claim the fresh
  // passwords before the phone does.
  if (d.digest_password) {
    PG_TRY(auto pw, GeneratePassword(&tenant));
    d.digest_password = pw;
    out.digest_password = std::move(pw);
  }
  if (d.config_key) {
    PG_TRY(auto key, NewConfigKey(d));
    d.config_key = key;
    d.config_key_delivered_at.reset();
    out.config_key = std::move(key);
  }
  // A web password set as a device variable overrides the generated one (RenderFile), so it
  // goes, and the device gets a generated one in its place: the phone's web password changes
  // whoever knew the old one. A tenant-wide one (the tenant layer) is left to the tenant; then
  // the generated one does not reach the phone and the record says so.
  std::vector<std::string> removed_vars;
  if (d.vars.is_object() && d.vars.erase("admin_password") > 0) removed_vars.emplace_back("admin_password");
  if (d.admin_password || !removed_vars.empty()) {
    PG_TRY(d.admin_password, GenerateAdminPassword());
    out.new_admin_password = !pipeline::ChoosesAdminPassword(tenant.vars);
  }
  d.engineer_window_ends.reset();
  out.pin_cleared = !d.pin_spki.empty();
  d.pin_spki.clear();
  d.state = core::DeviceState::kAssigned;
  d.window_opens = now;
  d.window_expires = now + std::int64_t{tenant.window_days} * kDay;
  d.state_changed_at = now;
  PG_TRY_STATUS(store_.ReplaceDevice(d, lines));
  PG_TRY_STATUS(LifecycleAudit(d, "reactivated",
                               {{"from", core::DeviceStateName(from)},
                                {"window_expires", *d.window_expires},
                                {"new_passwords", out.new_passwords},
                                {"new_url_token", true},
                                {"new_digest_password", out.digest_password.has_value()},
                                {"new_config_key", out.config_key.has_value()},
                                {"new_admin_password", out.new_admin_password},
                                {"removed_vars", removed_vars},
                                {"pin_cleared", out.pin_cleared}}));
  out.device = d;
  return out;
}

Result<std::vector<std::string>> Admin::PurgeSecrets(bool dry_run) {
  PG_TRY_STATUS(RequirePlatform("purging secrets"));
  PG_TRY(auto tenants, store_.ListTenants());
  PG_TRY(auto devices, store_.ListDevices({}));
  const auto now = ToUnix(clock_.Now());
  std::vector<std::string> purged;
  for (auto& d : devices) {
    const auto state = core::EffectiveState(d, now);
    if (state != core::DeviceState::kExpired && state != core::DeviceState::kRetired) continue;
    int retention_days = core::Tenant{}.retention_days;
    for (const auto& t : tenants) {
      if (d.tenant_id && t.id == *d.tenant_id) retention_days = t.retention_days;
    }
    // An assigned device past its window became expired when the window ended.
    const std::int64_t since = state == core::DeviceState::kExpired && d.state == core::DeviceState::kAssigned
                                   ? d.window_expires.value_or(now)
                                   : d.state_changed_at.value_or(d.updated_at);
    if (now < since + std::int64_t{retention_days} * kDay) continue;
    PG_TRY(auto lines, store_.ListLines(d.id));
    bool has_secret = !d.vars.empty() || !d.token_hash.empty() || d.config_key || d.digest_password || d.admin_password;
    for (const auto& l : lines) has_secret = has_secret || l.password.has_value();
    if (!has_secret) continue;
    purged.push_back(d.mac.str());
    if (dry_run) continue;
    for (auto& l : lines) l.password.reset();
    d.vars = core::Vars::object();
    d.token_hash.clear();
    d.config_key.reset();
    d.config_key_delivered_at.reset();
    d.digest_password.reset();
    d.admin_password.reset();
    d.engineer_window_ends.reset();
    PG_TRY_STATUS(store_.ReplaceDevice(d, lines));
    PG_TRY_STATUS(
        LifecycleAudit(d, "purged", {{"state", core::DeviceStateName(state)}, {"retention_days", retention_days}}));
  }
  return purged;
}

namespace {
const char* CredentialName(CredentialKind k) {
  switch (k) {
    case CredentialKind::kUrlToken: return "url token";
    case CredentialKind::kDigestPassword: return "digest password";
    case CredentialKind::kConfigKey: return "config key";
    case CredentialKind::kAdminPassword: return "web admin password";
  }
  return "credential";
}
}  // namespace

Result<std::string> Admin::NewConfigKey(const core::Device& d) const {
  const vendors::Vendor* vendor = vendors_.Find(d.vendor);
  std::optional<vendors::Cipher> cipher;
  // The cipher of the vendor's device files: the key must fit the scheme they use.
  for (const auto& name : vendor ? vendor->BootFiles(d.mac, d.model) : std::vector<std::string>{}) {
    if (auto route = vendor->Route(name)) {
      if (auto scheme = vendor->Encryption(*route)) cipher = scheme->cipher;
    }
  }
  if (!cipher) {
    return Error::FailedPrecondition("provgate has no config encryption for " + d.vendor + " " + d.model +
                                     " (see docs/encryption.md)");
  }
  return encrypt::GenerateKey(*cipher);
}

Result<std::string> Admin::IssueCredential(const std::string& mac, CredentialKind kind) {
  PG_TRY(auto d, FindDevice(mac));
  std::string secret;
  switch (kind) {
    case CredentialKind::kUrlToken:
      secret = defense::GenerateToken();
      d.token_hash = defense::HashToken(secret);
      break;
    case CredentialKind::kDigestPassword: {
      std::optional<core::Tenant> tenant;
      if (d.tenant_id) {
        PG_TRY(tenant, store_.GetTenant(*d.tenant_id));
      }
      PG_TRY(secret, GeneratePassword(tenant ? &*tenant : nullptr));
      d.digest_password = secret;
      break;
    }
    case CredentialKind::kConfigKey: {
      PG_TRY(secret, NewConfigKey(d));
      d.config_key = secret;
      d.config_key_delivered_at.reset();
      break;
    }
    case CredentialKind::kAdminPassword: {
      PG_TRY(secret, GenerateAdminPassword());
      d.admin_password = secret;
      d.engineer_window_ends.reset();
      break;
    }
  }
  PG_TRY_STATUS(store_.UpdateDevice(d));
  PG_TRY_STATUS(LifecycleAudit(d, std::string(CredentialName(kind)) + " issued", nlohmann::json::object()));
  return secret;
}

Status Admin::RevokeCredential(const std::string& mac, CredentialKind kind) {
  PG_TRY(auto d, FindDevice(mac));
  switch (kind) {
    case CredentialKind::kUrlToken: d.token_hash.clear(); break;
    case CredentialKind::kDigestPassword: d.digest_password.reset(); break;
    case CredentialKind::kConfigKey:
      d.config_key.reset();
      d.config_key_delivered_at.reset();
      break;
    case CredentialKind::kAdminPassword:
      d.admin_password.reset();
      d.engineer_window_ends.reset();
      break;
  }
  PG_TRY_STATUS(store_.UpdateDevice(d));
  return LifecycleAudit(d, std::string(CredentialName(kind)) + " revoked", nlohmann::json::object());
}

Status Admin::UnlockDevice(const std::string& mac) {
  PG_TRY(auto d, FindDevice(mac));
  if (d.locked_reason.empty()) return Error::FailedPrecondition("device " + d.mac.str() + " is not locked");
  PG_TRY_STATUS(writes_.LockDevice(d.id, ""));
  return LifecycleAudit(d, "unlocked", {{"was", d.locked_reason}});
}

Status Admin::RepinDevice(const std::string& mac) {
  PG_TRY(auto d, FindDevice(mac));
  PG_TRY_STATUS(writes_.ClearPin(d.id));
  return LifecycleAudit(d, "certificate pin cleared", {{"old_pin", d.pin_spki}});
}

Result<std::vector<defense::Ban>> Admin::ListBans() {
  PG_TRY_STATUS(RequirePlatform("listing bans"));
  return bans_.LoadActiveBans(ToUnix(clock_.Now()));
}

Result<defense::Ban> Admin::AddBan(const std::string& source, int minutes, const std::string& reason) {
  PG_TRY_STATUS(RequirePlatform("banning a source"));
  auto cidr = net::Cidr::Parse(source);
  if (!cidr) return Error::InvalidArgument("'" + source + "' is not an address or CIDR: " + cidr.error().message);
  if (minutes < 1) return Error::InvalidArgument("ban duration must be at least one minute");
  const auto now = ToUnix(clock_.Now());
  defense::Ban ban{cidr->ToString(), reason.empty() ? "manual ban" : reason, now, now + std::int64_t{minutes} * 60, 1};
  PG_TRY_STATUS(bans_.SaveBan(ban));
  PG_TRY_STATUS(
      Audit("ban added", "", std::nullopt, {{"source", ban.source}, {"expires", ban.expires}, {"why", ban.reason}}));
  return ban;
}

Status Admin::RemoveBan(const std::string& source) {
  PG_TRY_STATUS(RequirePlatform("lifting a ban"));
  auto cidr = net::Cidr::Parse(source);
  if (!cidr) return Error::InvalidArgument("'" + source + "' is not an address or CIDR");
  PG_TRY_STATUS(bans_.RemoveBan(cidr->ToString()));
  return Audit("ban removed", "", std::nullopt, {{"source", cidr->ToString()}});
}

}  // namespace provgate::service
