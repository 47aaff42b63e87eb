// The embedded store backend: one SQLite database file in WAL mode.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>

#include "base/clock.hpp"
#include "crypto/secret_box.hpp"
#include "store/sqlite/change_counter.hpp"
#include "store/sqlite/connection.hpp"
#include "store/store.hpp"

namespace provgate::store {

// Thread-safe: one connection behind a mutex, with prepared statements cached on it. Line
// passwords are sealed with `box` before they reach SQLite and opened after they leave it.
// Other processes (e.g. the CLI) may open the same file; SQLite's locking and busy timeout
// arbitrate between them. Every write to tenants, devices or lines bumps the change counter
// in `<db>-changes` once committed (DataGeneration).
class SqliteStore final : public Store {
 public:
  // Opens `db`, creating it with mode 0600 if absent, and applies pending migrations.
  // `clock` stamps created_at/updated_at and must outlive the store. Fails with
  // kFailedPrecondition if the file was migrated by a newer provgate.
  static Result<std::unique_ptr<SqliteStore>> Open(const std::filesystem::path& db, const crypto::SecretBox& box,
                                                   const Clock& clock);

  Result<core::Tenant> AddTenant(const core::Tenant& t) override;
  Result<core::Tenant> GetTenant(std::int64_t id) override;
  Result<core::Tenant> FindTenant(const std::string& name) override;
  Result<std::vector<core::Tenant>> ListTenants() override;
  Status UpdateTenant(const core::Tenant& t) override;

  Result<core::Device> AddDevice(const core::Device& d) override;
  Result<core::Device> FindDevice(const core::MacAddress& mac) override;
  Result<std::vector<core::Device>> ListDevices(const DeviceFilter& filter) override;
  Result<std::vector<core::Device>> ListModelRepresentatives(std::int64_t tenant_id) override;
  Status UpdateDevice(const core::Device& d) override;
  Status RemoveDevice(const core::MacAddress& mac) override;

  Status SetLine(const core::Line& line) override;
  Result<std::vector<core::Line>> ListLines(std::int64_t device_id) override;
  Status RemoveLine(std::int64_t device_id, int index) override;

  Result<std::vector<core::Line>> ClaimPasswords(std::int64_t device_id, const std::vector<int>& indexes,
                                                 std::int64_t now, std::string_view claim) override;
  Result<std::vector<int>> WipeDeliveredPasswords(std::int64_t device_id, std::int64_t delivered_at_or_before) override;
  Result<bool> TransitionState(std::int64_t device_id, core::DeviceState from, core::DeviceState to,
                               std::int64_t now) override;
  Status ReplaceDevice(const core::Device& d, const std::vector<core::Line>& lines) override;
  Status ImportDeviceRows(const DeviceRowSource& next, const std::function<void(size_t)>& progress) override;
  Result<core::Device> FindDeviceByToken(const std::string& token_hash) override;
  Result<bool> PinDevice(std::int64_t device_id, const std::string& spki_sha256) override;
  Status LockDevice(std::int64_t device_id, const std::string& reason) override;
  Status ClearPin(std::int64_t device_id) override;
  Result<bool> MarkConfigKeyDelivered(std::int64_t device_id, std::int64_t now, std::string_view claim) override;
  Result<bool> EndEngineerWindow(std::int64_t device_id, std::int64_t window_end,
                                 const std::string& admin_password) override;
  Result<GivenBack> GiveBackUndelivered(std::int64_t device_id, std::string_view claim) override;
  Result<bool> ReleaseClaim(std::int64_t device_id, std::string_view claim, std::size_t lines) override;
  Result<GivenBack> GiveBackAbandonedClaim(std::int64_t device_id, std::string_view claim,
                                           std::int64_t claimed_before) override;

  Status SaveBan(const defense::Ban& ban) override;
  Result<std::vector<defense::Ban>> LoadActiveBans(std::int64_t now) override;
  Status RemoveBan(const std::string& source) override;

  Status AppendAudit(const StoredAuditEvent& e) override;
  Status AppendAuditBatch(const std::vector<StoredAuditEvent>& events, const std::vector<DeviceSeen>& seen,
                          const std::optional<AuditCopyMark>& mark) override;
  Result<std::optional<AuditCopyMark>> FindAuditCopyMark(const std::string& file) override;
  Result<std::vector<StoredAuditEvent>> ListAudit(const std::string& mac, int limit) override;

  Result<int> SchemaVersion() override;
  std::uint64_t DataGeneration() override;
  // Which rows changed is not counted: any change is of anything, and entries expire after
  // kCacheMaxAge (a CLI process or the sqlite3 shell may write behind the server's back).
  DataChanges ChangesSince(std::uint64_t generation) override;
  std::optional<std::chrono::seconds> CacheMaxAge() override { return kCacheMaxAge; }
  Result<FleetPage> ReadFleetPage(std::int64_t after_id, size_t limit) override;
  Result<FleetPage> ReadFleetDevices(const std::vector<std::int64_t>& ids) override;
  Result<std::vector<schema::InvariantViolation>> CheckInvariants() override;

  // The change counter's file beside the database `db`.
  static std::filesystem::path ChangeCounterPath(const std::filesystem::path& db);

 private:
  SqliteStore(sqlite::Connection db, sqlite::ChangeCounter changes, const crypto::SecretBox& box, const Clock& clock)
      : db_(std::move(db)), changes_(std::move(changes)), box_(box), clock_(clock) {}

  // The devices `devices_sql` selects (PG_DEVICE_COLUMNS, parameters set by `bind`) with
  // their lines.
  Result<FleetPage> ReadFleet(const char* devices_sql, const std::function<void(sqlite::Statement&)>& bind);
  // The *Locked helpers expect mu_ held, so transactions can combine them.
  Result<core::Device> InsertDeviceLocked(const core::Device& d, std::int64_t now);
  enum class ServerColumns : std::uint8_t { kKeep, kReplace };
  Status UpdateDeviceLocked(const core::Device& d, ServerColumns server_columns);
  Status UpsertLineLocked(const core::Line& line, const std::optional<std::vector<unsigned char>>& sealed);
  Status InsertAuditLocked(const StoredAuditEvent& e);
  // Clears the key's plain-copy mark made under `claim`; true when there was one.
  Result<bool> UnmarkConfigKeyLocked(std::int64_t device_id, std::string_view claim);
  // GiveBackUndelivered (`abandoned_before` none) and GiveBackAbandonedClaim.
  Result<GivenBack> GiveBackClaim(std::int64_t device_id, std::string_view claim,
                                  std::optional<std::int64_t> abandoned_before);

  std::mutex mu_;
  sqlite::Connection db_;  // guarded by mu_
  sqlite::ChangeCounter changes_;
  const crypto::SecretBox box_;
  const Clock& clock_;
};

}  // namespace provgate::store
