// The shared store backend: a PostgreSQL database that several provgate nodes use at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "base/clock.hpp"
#include "crypto/secret_box.hpp"
#include "store/postgres/change_feed.hpp"
#include "store/postgres/connection.hpp"
#include "store/store.hpp"

namespace provgate::store {

// Thread-safe: each call borrows a connection from a pool of at most `pool_size`, and waits
// for one while all are busy. Line passwords are sealed with `box` before they reach the
// database and opened after they leave it. Consistency between threads and nodes lives in
// the database: every conditional write (password claims, state transitions, pin, the key's
// delivery mark) is one UPDATE whose WHERE clause PostgreSQL re-checks on the row it locked,
// and every multi-statement write is one transaction.
//
// DataGeneration changes after this process's committed writes to tenants, devices and
// lines, and after every other write to them, which the tables' triggers announce with
// NOTIFY (postgres::ChangeFeed): a change through any node, the CLI or psql reaches every
// node's caches within one notification's delay, naming the device or tenant it changed.
class PostgresStore final : public Store {
 public:
  // Connects to `url` (a libpq URI, e.g. postgresql://user@host:5432/db) and applies pending
  // migrations. `clock` stamps created_at/updated_at and must outlive the store. Fails with
  // kUnavailable when the server cannot be reached and kFailedPrecondition if the database
  // was migrated by a newer provgate.
  static Result<std::unique_ptr<PostgresStore>> Open(const std::string& url, size_t pool_size,
                                                     const crypto::SecretBox& box, const Clock& clock);

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
  // Which devices and tenants changed, from this process's writes and the tables' triggers
  // (postgres::ChangeFeed); every write is announced, so entries need no expiry.
  DataChanges ChangesSince(std::uint64_t generation) override;
  std::optional<std::chrono::seconds> CacheMaxAge() override { return std::nullopt; }
  Result<FleetPage> ReadFleetPage(std::int64_t after_id, size_t limit) override;
  Result<FleetPage> ReadFleetDevices(const std::vector<std::int64_t>& ids) override;
  Result<std::vector<schema::InvariantViolation>> CheckInvariants() override;
  // Waits until DataGeneration differs from `seen` or `limit` passes; false on the limit.
  bool WaitForChange(std::uint64_t seen, std::chrono::milliseconds limit);

 private:
  PostgresStore(std::unique_ptr<postgres::Pool> pool, std::unique_ptr<postgres::ChangeFeed> changes,
                const crypto::SecretBox& box, const Clock& clock)
      : pool_(std::move(pool)), changes_(std::move(changes)), box_(box), clock_(clock) {}

  // GiveBackUndelivered (`abandoned_before` none) and GiveBackAbandonedClaim.
  Result<GivenBack> GiveBackClaim(std::int64_t device_id, std::string_view claim,
                                  std::optional<std::int64_t> abandoned_before);

  // Helpers on a borrowed connection, so transactions can combine them.
  Result<core::Device> InsertDevice(postgres::Connection& db, const core::Device& d, std::int64_t now);
  enum class ServerColumns : std::uint8_t { kKeep, kReplace };
  Status WriteDevice(postgres::Connection& db, const core::Device& d, ServerColumns server_columns);
  Status UpsertLine(postgres::Connection& db, const core::Line& line,
                    const std::optional<std::vector<unsigned char>>& sealed);
  Status InsertAudit(postgres::Connection& db, const StoredAuditEvent& e);
  // The devices `devices_sql` selects (PG_DEVICE_COLUMNS) with their lines.
  Result<FleetPage> ReadFleet(const char* devices_sql, const postgres::Params& params);
  // A single-row read of a device by one text column (`sql` selects PG_DEVICE_COLUMNS).
  Result<std::optional<core::Device>> ReadOneDevice(const char* sql, const std::string& key);

  std::unique_ptr<postgres::Pool> pool_;
  std::unique_ptr<postgres::ChangeFeed> changes_;
  const crypto::SecretBox box_;
  const Clock& clock_;
};

}  // namespace provgate::store
