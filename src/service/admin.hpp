// Domain operations on tenants, devices and lines: the one place their rules live, called
// by the CLI today and by the REST API/portal later. Every change writes an admin audit
// record naming the actor. Input arrives as text (CLI arguments, API fields) and is
// parsed here into checked types, with errors an operator can act on.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/audit_log.hpp"
#include "base/clock.hpp"
#include "core/model.hpp"
#include "defense/ban_store.hpp"
#include "pipeline/render_file.hpp"
#include "store/device_writes.hpp"
#include "store/inventory.hpp"
#include "vendors/vendor.hpp"

namespace provgate::service {

class InventoryImport;
class Linter;

struct NewDevice {
  std::string mac;
  std::string vendor;
  std::string model;
  std::string tenant;  // empty: stays in stock
  std::string serial;
};

struct LineChange {
  int index = 1;
  std::string display_name;
  std::string user;
  std::string auth_user;
  std::string registrar;
  int port = 5060;
  std::string transport = "udp";
  std::optional<std::string> password;  // explicit password
  bool generate_password = false;       // or a generated one, returned once
};

struct DeviceDetails {
  core::Device device;
  std::optional<core::Tenant> tenant;
  std::vector<core::Line> lines;  // passwords removed; has_password says whether one is stored
  std::vector<bool> has_password;
};

struct TenantPolicyChange {
  std::optional<int> window_days;
  std::optional<std::string> password_policy;  // deliver-once | until-confirmed | always
  std::optional<int> confirm_grace_seconds;
  std::optional<int> password_length;
  std::optional<std::string> password_alphabet;
  std::optional<int> retention_days;
  std::optional<std::string> min_strength;  // client-cert | token | digest | ip
  std::optional<std::vector<std::string>> ip_ranges;
  std::optional<bool> ip_as_identity;
  std::optional<bool> allow_plain_http;
  std::optional<bool> anomaly_lock;
  std::optional<bool> lock_on_misuse;
};

// What `Admin::IssueCredential` creates; the secret is shown once and stored hashed or sealed.
enum class CredentialKind { kUrlToken, kDigestPassword, kConfigKey, kAdminPassword };

using pipeline::GenerateAdminPassword;
using pipeline::kAdminPasswordLength;

struct Reactivation {
  core::Device device;
  std::string url_token;  // shown once; only its hash is stored
  size_t new_passwords = 0;
  // Replacements of the device's other secrets, each shown once; set only when the device
  // had one (a device without a digest password or config key does not get one).
  std::optional<std::string> digest_password;
  std::optional<std::string> config_key;
  bool new_admin_password = false;  // rotated, never shown (see `device admin-password`)
  bool pin_cleared = false;         // the next authenticated fetch pins the certificate again
};

// A web admin password shown to an engineer (Admin::IssueEngineerPassword).
struct EngineerPassword {
  std::string password;                // shown once
  std::int64_t window_ends = 0;        // the first device-file fetch from then on replaces it
  std::vector<std::string_view> keys;  // the vendor's config keys that carry it
};

struct ImportProblem {
  size_t line = 0;
  std::string reason;
};

struct ImportResult {
  size_t imported = 0;
  // The first problems in file order (InventoryImport lists at most kMaxListedImportProblems);
  // non-empty: nothing was imported.
  std::vector<ImportProblem> problems;
  size_t problem_count = 0;  // every bad row, listed or not
};

// The tenant an operator (a tenant-scoped API key) is confined to.
struct TenantScope {
  std::int64_t id = 0;
  std::string name;
};

class Admin {
 public:
  // `inventory` takes the edits of tenants, devices and lines; `writes` the targeted writes
  // of the lifecycle commands (retire, unlock, pin reset); `bans` the operator's bans.
  // `linter` (may be null: no checks) lints a device's rendered configs before a change
  // that would be served is saved: device add and assign, line set, import.
  Admin(store::Inventory& inventory, store::DeviceWrites& writes, defense::BanStore& bans, audit::AuditLog& audit,
        const vendors::Registry& vendors, const Clock& clock, std::string actor, const Linter* linter = nullptr);

  // Confines every later call to one tenant: a device or tenant outside it answers exactly
  // as one that does not exist (kNotFound, same message), stock devices included; listing
  // shows only the tenant's objects; operations without a tenant (adding tenants, bans,
  // purge) are kPermissionDenied; a device added or imported must belong to the tenant.
  void RestrictToTenant(TenantScope scope) { scope_ = std::move(scope); }
  const std::optional<TenantScope>& scope() const { return scope_; }

  Result<core::Tenant> AddTenant(const std::string& name, const std::string& display_name, int window_days);
  Result<std::vector<core::Tenant>> ListTenants();
  Result<core::Tenant> UpdateTenantPolicy(const std::string& name, const TenantPolicyChange& c);

  // Assigning a tenant opens the provisioning window (tenant.window_days).
  Result<core::Device> AddDevice(const NewDevice& d);
  Result<std::vector<core::Device>> ListDevices(const std::string& tenant, const std::string& state);
  Result<DeviceDetails> ShowDevice(const std::string& mac);
  Status RemoveDevice(const std::string& mac);

  // Returns the generated password (the only time it is shown) or "" when none was generated.
  Result<std::string> SetLine(const std::string& mac, const LineChange& change);

  // Lifecycle. Every transition is an audit event naming the actor.
  // stock -> assigned: opens the tenant's provisioning window.
  Result<core::Device> AssignDevice(const std::string& mac, const std::string& tenant);
  // any -> retired: the device gets nothing any more; its secrets go at the next purge.
  Result<core::Device> RetireDevice(const std::string& mac);
  // New window, new SIP password on every line, new URL token, new digest password and config
  // key (where the device had them), certificate pin cleared, all in one transaction: every
  // old secret stops working at once. The device must belong to a tenant.
  Result<Reactivation> ReactivateDevice(const std::string& mac);

  // A shipping-manifest import fed as the file arrives (service/inventory.hpp): every row is
  // checked first, then all or none are imported in one transaction. kUnavailable when the
  // temporary file that stages the rows cannot be created.
  Result<std::unique_ptr<InventoryImport>> StartImport();

  // Wipes the SIP passwords, device variables, URL token, digest password and config key of
  // expired/retired devices whose state is older than their tenant's retention_days. Audit
  // records are kept. Returns the MACs.
  Result<std::vector<std::string>> PurgeSecrets(bool dry_run);

  // Device credentials for phones without a usable certificate, and config-encryption keys.
  // Returns the new secret (the only time it is shown); the old one stops working at once.
  Result<std::string> IssueCredential(const std::string& mac, CredentialKind kind);
  Status RevokeCredential(const std::string& mac, CredentialKind kind);
  // A web admin password for an engineer, valid until the device's first device-file fetch
  // at or after `window_seconds` from now, which then carries a new one nobody sees
  // (core::Device::engineer_window_ends). kFailedPrecondition, naming why, when provgate
  // cannot set the phone's password: the vendor has no sourced key
  // (vendors::Vendor::WebAdminPasswordKeys), a tenant or device variable sets the password,
  // or the device gets no config (in stock, expired or retired). Audited durably (never the password).
  Result<EngineerPassword> IssueEngineerPassword(const std::string& mac, std::int64_t window_seconds);
  // The credentials of a softphone's line (core::IsSoftphone), its password included: claimed
  // like a device's delivery (store::DeviceWrites::ClaimPasswords), so it leaves once until
  // re-activation sets a new one. kFailedPrecondition when the device is no softphone or the
  // password was revealed, delivered or wiped already; kNotFound for an unknown line. Both
  // outcomes are audited durably (never the password).
  Result<core::Line> RevealSoftphoneLine(const std::string& mac, int index);
  // Lifts a lock (certificate key changed, network changed, first seen late).
  Status UnlockDevice(const std::string& mac);
  // Forgets the certificate pin so the next authenticated fetch records a new one.
  Status RepinDevice(const std::string& mac);

  // Bans of scanning sources (running servers pick changes up within seconds).
  Result<std::vector<defense::Ban>> ListBans();
  Result<defense::Ban> AddBan(const std::string& source, int minutes, const std::string& reason);
  Status RemoveBan(const std::string& source);

  // Render variables of a tenant or device layer (service/vars.hpp, vars.cpp). A change is
  // rendered and linted with `linter` before it is saved and refused if it introduces an
  // error-severity finding, unless forced; either way it is audited (keys, never secret
  // values). The elaborated `struct`/`class` names declare service::VarsChange,
  // service::VarsOutcome and service::Linter, defined in vars.hpp and lint.hpp.
  Result<struct VarsOutcome> ChangeTenantVars(const class Linter& linter, const std::string& tenant,
                                              const struct VarsChange& change);
  Result<struct VarsOutcome> ChangeDeviceVars(const class Linter& linter, const std::string& mac,
                                              const struct VarsChange& change);
  // A layer as stored, secret values (IsSecretVarName) replaced by the placeholder.
  Result<core::Vars> TenantVars(const std::string& tenant);
  Result<core::Vars> DeviceVars(const std::string& mac);

 private:
  friend class InventoryImport;
  Result<std::string> GeneratePassword(const core::Tenant* tenant);
  // A fresh key for the config encryption of the device's vendor and model.
  Result<std::string> NewConfigKey(const core::Device& d) const;
  Status LifecycleAudit(const core::Device& d, const std::string& what, nlohmann::json detail);
  // kFailedPrecondition naming every error-severity finding when `device` (with `tenant`'s
  // variables and `lines`) would be served a config that fails the policy linter.
  Status RefuseLintErrors(const core::Device& device, const core::Tenant& tenant,
                          const std::vector<core::Line>& lines) const;
  // A durable admin record; `tenant_id` is the tenant that holds the device or object now
  // (the record's tenant_id, what tenants' audit views filter on).
  Status Audit(const std::string& action, const std::string& mac, std::optional<std::int64_t> tenant_id,
               nlohmann::json detail);
  Result<core::Device> FindDevice(const std::string& mac);
  // FindTenant by name within the scope, with the operator-facing kNotFound message.
  Result<core::Tenant> FindTenantInScope(const std::string& name);
  // kPermissionDenied for a scoped caller: the operation is the platform operator's.
  Status RequirePlatform(const char* what) const;

  store::Inventory& store_;
  store::DeviceWrites& writes_;
  defense::BanStore& bans_;
  audit::AuditLog& audit_;
  const vendors::Registry& vendors_;
  const Clock& clock_;
  const Linter* linter_;
  std::string actor_;
  std::optional<TenantScope> scope_;
};

// Tenant names are slugs: 1-64 of [a-z0-9-], starting with a letter or digit.
Status ValidateTenantName(const std::string& name);

}  // namespace provgate::service
