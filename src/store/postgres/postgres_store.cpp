#include "store/postgres/postgres_store.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "store/postgres/migrate.hpp"
#include "store/rows.hpp"

namespace provgate::store {
namespace {

using postgres::Connection;
using postgres::Params;
using postgres::ReadAll;
using postgres::Row;
using postgres::Rows;
using postgres::Violation;
using rows::BindDeviceExtra;
using rows::BindTenantPolicy;
using rows::DeviceMissing;
using rows::DumpVars;
using rows::ReadDevice;
using rows::ReadTenant;
using rows::TenantMissing;
using rows::ValidateLine;

// Records this process's write of `key` (or of anything, when none) in its change feed when
// the method that declares it returns: declared before the method borrows its connection, it
// runs after the statement or transaction has committed. Other processes learn of the write
// from the tables' triggers (postgres::ChangeFeed). A write that changed nothing counts too;
// a cache re-reads once, which is cheaper than telling the two apart.
class ChangeNotice {
 public:
  ChangeNotice(postgres::ChangeFeed& feed, std::optional<ChangedKey> key) : feed_(feed), key_(key) {}
  ~ChangeNotice() { feed_.Record(key_); }
  ChangeNotice(const ChangeNotice&) = delete;
  ChangeNotice& operator=(const ChangeNotice&) = delete;
  // Once a new row's id is known: the write changed only that row.
  void Narrow(ChangedKey key) { key_ = key; }

 private:
  postgres::ChangeFeed& feed_;
  std::optional<ChangedKey> key_;
};

// A PostgreSQL array literal of integers, bound as one parameter (`$n::bigint[]`).
template <typename Int>
std::string IntArray(const std::vector<Int>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += std::to_string(values[i]);
  }
  return out + "}";
}

// Both forms take the same parameters; the first leaves $16-$21 (the columns the server
// sets while serving) unused.
constexpr const char* kUpdateDeviceKeep =
    "UPDATE devices SET mac = $2, vendor = $3, model = $4, tenant_id = $5, state = $6, "
    "window_opens = $7, window_expires = $8, serial = $9, vars = $10, updated_at = $11, "
    "token_hash = $12, state_changed_at = $13, config_key_enc = $14, digest_password_enc = $15, "
    "config_key_delivered_at = $22, admin_password_enc = $23, engineer_window_ends = $24 WHERE id = $1";
constexpr const char* kUpdateDeviceReplace =
    "UPDATE devices SET mac = $2, vendor = $3, model = $4, tenant_id = $5, state = $6, "
    "window_opens = $7, window_expires = $8, serial = $9, vars = $10, updated_at = $11, "
    "token_hash = $12, state_changed_at = $13, config_key_enc = $14, digest_password_enc = $15, "
    "pin_spki = $16, locked_reason = $17, last_seen_at = $18, last_seen_ip = $19, last_user_agent = $20, "
    "firmware = $21, config_key_delivered_at = $22, admin_password_enc = $23, engineer_window_ends = $24 "
    "WHERE id = $1";

// Clears the key's plain-copy mark made under `claim`; true when there was one.
Result<bool> UnmarkConfigKey(Connection& db, std::int64_t device_id, std::string_view claim) {
  PG_TRY(Rows key, db.Exec("UPDATE devices SET config_key_delivered_at = NULL, config_key_claim = NULL "
                           "WHERE id = $1 AND config_key_claim = $2 AND config_key_delivered_at IS NOT NULL",
                           Params().BindInt(1, device_id).BindText(2, claim)));
  return key.Changed() > 0;
}

}  // namespace

Result<std::unique_ptr<PostgresStore>> PostgresStore::Open(const std::string& url, size_t pool_size,
                                                           const crypto::SecretBox& box, const Clock& clock) {
  {
    PG_TRY(auto db, Connection::Open(url));
    if (auto r = postgres::Migrate(db, ToUnix(clock.Now())); !r) {
      Error e = r.error();
      e.message = fmt::format("PostgreSQL {}: {}", postgres::RedactUrl(url), e.message);
      return e;
    }
  }
  PG_TRY(auto changes, postgres::ChangeFeed::Start(url));
  PG_TRY(auto pool, postgres::Pool::Open(url, pool_size, changes->Origin()));
  return std::unique_ptr<PostgresStore>(new PostgresStore(std::move(pool), std::move(changes), box, clock));
}

std::uint64_t PostgresStore::DataGeneration() { return changes_->Load(); }

DataChanges PostgresStore::ChangesSince(std::uint64_t generation) { return changes_->ChangesSince(generation); }

bool PostgresStore::WaitForChange(std::uint64_t seen, std::chrono::milliseconds limit) {
  return changes_->WaitBeyond(seen, limit);
}

Result<int> PostgresStore::SchemaVersion() {
  PG_TRY(auto db, pool_->Acquire());
  return postgres::CurrentSchemaVersion(*db);
}

Result<std::vector<schema::InvariantViolation>> PostgresStore::CheckInvariants() {
  PG_TRY(auto db, pool_->Acquire());
  // One snapshot for every query: REPEATABLE READ, read only.
  PG_TRY_STATUS(db->ExecScript("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
  auto broken = schema::CheckInvariants([&db](const char* sql) -> Result<std::vector<std::string>> {
    PG_TRY(Rows rows, db->Exec(sql));
    return ReadAll<std::string>(rows, [](const Row& row) -> Result<std::string> { return row.Text(0); });
  });
  PG_TRY_STATUS(db->ExecScript(broken ? "COMMIT" : "ROLLBACK"));
  return broken;
}

// --- Tenants ---

Result<core::Tenant> PostgresStore::AddTenant(const core::Tenant& t) {
  PG_TRY(std::string vars, DumpVars(t.vars, fmt::format("tenant {}", t.name)));
  Params p;
  p.BindText(1, t.name).BindText(2, t.display_name).BindInt(3, t.window_days).BindText(4, vars);
  BindTenantPolicy(p, t, 5);
  ChangeNotice notice(*changes_, std::nullopt);
  PG_TRY(auto db, pool_->Acquire());
  auto added = db->Exec(
      "INSERT INTO tenants(name, display_name, window_days, vars, password_policy, "
      "confirm_grace_seconds, password_length, password_alphabet, retention_days, "
      "min_strength, ip_ranges, ip_as_identity, allow_plain_http, anomaly_lock, "
      "anomaly_prefix_v4, anomaly_prefix_v6, late_first_fetch_days, lock_on_misuse) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) RETURNING id",
      p);
  if (!added) {
    if (db->violation() == Violation::kUnique) {
      return Error::AlreadyExists(fmt::format("tenant {} already exists", t.name));
    }
    return added.error();
  }
  core::Tenant out = t;
  out.id = (*added)[0].Int(0);
  notice.Narrow(ChangedKey::Tenant(out.id));
  return out;
}

Result<core::Tenant> PostgresStore::GetTenant(std::int64_t id) {
  PG_TRY(auto db, pool_->Acquire());
  PG_TRY(Rows rows, db->Exec("SELECT " PG_TENANT_COLUMNS " FROM tenants WHERE id = $1", Params().BindInt(1, id)));
  if (rows.empty()) return TenantMissing(id);
  return ReadTenant(rows[0]);
}

Result<core::Tenant> PostgresStore::FindTenant(const std::string& name) {
  PG_TRY(auto db, pool_->Acquire());
  PG_TRY(Rows rows, db->Exec("SELECT " PG_TENANT_COLUMNS " FROM tenants WHERE name = $1", Params().BindText(1, name)));
  if (rows.empty()) return Error::NotFound(fmt::format("tenant {} does not exist", name));
  return ReadTenant(rows[0]);
}

Result<std::vector<core::Tenant>> PostgresStore::ListTenants() {
  PG_TRY(auto db, pool_->Acquire());
  PG_TRY(Rows rows, db->Exec("SELECT " PG_TENANT_COLUMNS " FROM tenants ORDER BY name"));
  return ReadAll<core::Tenant>(rows, [](const Row& row) { return ReadTenant(row); });
}

Status PostgresStore::UpdateTenant(const core::Tenant& t) {
  PG_TRY(std::string vars, DumpVars(t.vars, fmt::format("tenant {}", t.name)));
  Params p;
  p.BindInt(1, t.id).BindText(2, t.name).BindText(3, t.display_name).BindInt(4, t.window_days);
  p.BindText(5, vars);
  BindTenantPolicy(p, t, 6);
  ChangeNotice notice(*changes_, ChangedKey::Tenant(t.id));
  PG_TRY(auto db, pool_->Acquire());
  auto updated = db->Exec(
      "UPDATE tenants SET name = $2, display_name = $3, window_days = $4, vars = $5, "
      "password_policy = $6, confirm_grace_seconds = $7, password_length = $8, "
      "password_alphabet = $9, retention_days = $10, min_strength = $11, "
      "ip_ranges = $12, ip_as_identity = $13, allow_plain_http = $14, "
      "anomaly_lock = $15, anomaly_prefix_v4 = $16, anomaly_prefix_v6 = $17, "
      "late_first_fetch_days = $18, lock_on_misuse = $19 WHERE id = $1",
      p);
  if (!updated) {
    if (db->violation() == Violation::kUnique) {
      return Error::AlreadyExists(fmt::format("tenant {} already exists", t.name));
    }
    return updated.error();
  }
  if (updated->Changed() == 0) return TenantMissing(t.id);
  return Ok();
}

// --- Devices ---

Result<core::Device> PostgresStore::InsertDevice(Connection& db, const core::Device& d, std::int64_t now) {
  PG_TRY(std::string vars, DumpVars(d.vars, fmt::format("device {}", d.mac.str())));
  Params p;
  p.BindText(1, d.mac.str()).BindText(2, d.vendor).BindText(3, d.model).BindInt(4, d.tenant_id);
  p.BindText(5, core::DeviceStateName(d.state)).BindInt(6, d.window_opens);
  p.BindInt(7, d.window_expires).BindText(8, d.serial).BindText(9, vars).BindInt(10, now);
  p.BindText(11, d.token_hash).BindInt(12, d.state_changed_at.value_or(now));
  BindDeviceExtra(p, d, 13, box_);
  auto added = db.Exec(
      "INSERT INTO devices(mac, vendor, model, tenant_id, state, window_opens, window_expires, "
      "serial, vars, created_at, updated_at, token_hash, state_changed_at, " PG_DEVICE_EXTRA
      ") "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, $12, $13, $14, $15, $16, $17, "
      "$18, $19, $20, $21, $22, $23) RETURNING id",
      p);
  if (!added) {
    if (db.violation() == Violation::kUnique) {
      return Error::AlreadyExists(fmt::format("device {} already exists", d.mac.str()));
    }
    if (db.violation() == Violation::kForeignKey) return TenantMissing(d.tenant_id.value_or(0));
    return added.error();
  }
  core::Device out = d;
  out.id = (*added)[0].Int(0);
  out.created_at = now;
  out.updated_at = now;
  out.state_changed_at = d.state_changed_at.value_or(now);
  return out;
}

Result<core::Device> PostgresStore::AddDevice(const core::Device& d) {
  ChangeNotice notice(*changes_, std::nullopt);
  PG_TRY(auto db, pool_->Acquire());
  PG_TRY(core::Device added, InsertDevice(*db, d, ToUnix(clock_.Now())));
  notice.Narrow(ChangedKey::Device(added.id));
  return added;
}

Result<std::optional<core::Device>> PostgresStore::ReadOneDevice(const char* sql, const std::string& key) {
  PG_TRY(auto db, pool_->Acquire());
  PG_TRY(Rows rows, db->Exec(sql, Params().BindText(1, key)));
  if (rows.empty()) return std::optional<core::Device>();
  PG_TRY(core::Device d, ReadDevice(rows[0], box_));
  return std::optional<core::Device>(std::move(d));
}

Result<core::Device> PostgresStore::FindDevice(const core::MacAddress& mac) {
  PG_TRY(auto found, ReadOneDevice("SELECT " PG_DEVICE_COLUMNS " FROM devices WHERE mac = $1", mac.str()));
  if (!found) return Error::NotFound(fmt::format("device {} does not exist", mac.str()));
  return std::move(*found);
}

Result<core::Device> PostgresStore::FindDeviceByToken(const std::string& token_hash) {
  if (token_hash.empty()) return Error::NotFound("no device has an empty token");
  PG_TRY(auto found, ReadOneDevice("SELECT " PG_DEVICE_COLUMNS " FROM devices WHERE token_hash = $1", token_hash));
  if (!found) return Error::NotFound("no device has this token");
  return std::move(*found);
}

Result<std::vector<core::Device>> PostgresStore::ListDevices(const DeviceFilter& filter) {
  Params p;
  p.BindInt(1, filter.tenant_id).BindInt(3, filter.with_own_vars_only ? 1 : 0);
  if (filter.state) {
    p.BindText(2, core::DeviceStateName(*filter.state));
  } else {
    p.BindNull(2);
  }
  PG_TRY(auto db, pool_->Acquire());
  PG_TRY(Rows rows, db->Exec("SELECT " PG_DEVICE_COLUMNS " FROM devices "
                             "WHERE ($1::bigint IS NULL OR tenant_id = $1::bigint) "
                             "AND ($2::text IS NULL OR state = $2::text) "
                             "AND ($3::bigint = 0 OR vars <> '{}') ORDER BY mac",
                             p));
  return ReadAll<core::Device>(rows, [this](const Row& row) { return ReadDevice(row, box_); });
}

Result<std::vector<core::Device>> PostgresStore::ListModelRepresentatives(std::int64_t tenant_id) {
  Params p;
  p.BindInt(1, tenant_id).BindText(2, core::DeviceStateName(core::DeviceState::kRetired));
  PG_TRY(auto db, pool_->Acquire());
  PG_TRY(Rows rows, db->Exec("SELECT " PG_DEVICE_COLUMNS " FROM devices WHERE id IN "
                             "(SELECT MIN(id) FROM devices WHERE tenant_id = $1 AND state <> $2 "
                             "GROUP BY vendor, model) ORDER BY vendor, model",
                             p));
  return ReadAll<core::Device>(rows, [this](const Row& row) { return ReadDevice(row, box_); });
}

Status PostgresStore::WriteDevice(Connection& db, const core::Device& d, ServerColumns server_columns) {
  PG_TRY(std::string vars, DumpVars(d.vars, fmt::format("device {}", d.mac.str())));
  Params p;
  p.BindInt(1, d.id).BindText(2, d.mac.str()).BindText(3, d.vendor).BindText(4, d.model);
  p.BindInt(5, d.tenant_id).BindText(6, core::DeviceStateName(d.state));
  p.BindInt(7, d.window_opens).BindInt(8, d.window_expires).BindText(9, d.serial);
  p.BindText(10, vars).BindInt(11, ToUnix(clock_.Now())).BindText(12, d.token_hash);
  p.BindInt(13, d.state_changed_at);
  BindDeviceExtra(p, d, 14, box_);
  // The columns the server itself changes while it serves (pin, lock, last seen) are left
  // alone unless the caller replaces them on purpose: an admin edit that read the row a
  // moment earlier must not undo a lock or pin a node has just set.
  auto updated = db.Exec(server_columns == ServerColumns::kReplace ? kUpdateDeviceReplace : kUpdateDeviceKeep, p);
  if (!updated) {
    if (db.violation() == Violation::kUnique) {
      return Error::AlreadyExists(fmt::format("device {} already exists", d.mac.str()));
    }
    if (db.violation() == Violation::kForeignKey) return TenantMissing(d.tenant_id.value_or(0));
    return updated.error();
  }
  if (updated->Changed() == 0) return DeviceMissing(d.id);
  return Ok();
}

Status PostgresStore::UpdateDevice(const core::Device& d) {
  ChangeNotice notice(*changes_, ChangedKey::Device(d.id));
  PG_TRY(auto db, pool_->Acquire());
  return WriteDevice(*db, d, ServerColumns::kKeep);
}

Status PostgresStore::RemoveDevice(const core::MacAddress& mac) {
  ChangeNotice notice(*changes_, std::nullopt);
  PG_TRY(auto db, pool_->Acquire());
  // Lines go with the device through ON DELETE CASCADE, in the same statement.
  PG_TRY(Rows rows, db->Exec("DELETE FROM devices WHERE mac = $1", Params().BindText(1, mac.str())));
  if (rows.Changed() == 0) return Error::NotFound(fmt::format("device {} does not exist", mac.str()));
  return Ok();
}

// --- Lines ---

Status PostgresStore::UpsertLine(Connection& db, const core::Line& line,
                                 const std::optional<std::vector<unsigned char>>& sealed) {
  Params p;
  p.BindInt(1, line.device_id).BindInt(2, line.index).BindText(3, line.display_name);
  p.BindText(4, line.user).BindText(5, line.auth_user).BindText(6, line.registrar);
  p.BindInt(7, line.port).BindText(8, core::TransportName(line.transport)).BindBlob(9, sealed);
  p.BindInt(10, line.delivered_at);
  auto written = db.Exec("INSERT INTO lines(" PG_LINE_COLUMNS
                         ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
                         "ON CONFLICT (device_id, idx) DO UPDATE SET display_name = excluded.display_name, "
                         "\"user\" = excluded.\"user\", auth_user = excluded.auth_user, "
                         "registrar = excluded.registrar, port = excluded.port, transport = excluded.transport, "
                         "password_enc = excluded.password_enc, delivered_at = excluded.delivered_at, "
                         "claim_in_flight = CASE WHEN excluded.delivered_at IS NULL THEN 0 "
                         "ELSE lines.claim_in_flight END",
                         p);
  if (!written) {
    if (db.violation() == Violation::kForeignKey) return DeviceMissing(line.device_id);
    return written.error();
  }
  return Ok();
}

Status PostgresStore::SetLine(const core::Line& line) {
  PG_TRY_STATUS(ValidateLine(line));
  // Sealed before the connection is borrowed: the clear text never reaches the database.
  std::optional<std::vector<unsigned char>> sealed;
  if (line.password) sealed = box_.Seal(*line.password);
  ChangeNotice notice(*changes_, ChangedKey::Device(line.device_id));
  PG_TRY(auto db, pool_->Acquire());
  return UpsertLine(*db, line, sealed);
}

Result<FleetPage> PostgresStore::ReadFleet(const char* devices_sql, const Params& params) {
  PG_TRY(auto db, pool_->Acquire());
  FleetPage page;
  {
    PG_TRY(Rows rows, db->Exec(devices_sql, params));
    PG_TRY(page.devices, ReadAll<core::Device>(rows, [this](const Row& row) { return ReadDevice(row, box_); }));
  }
  if (page.devices.empty()) return page;
  std::vector<std::int64_t> ids;
  ids.reserve(page.devices.size());
  for (const auto& d : page.devices) ids.push_back(d.id);
  // Two statements, not one snapshot: a caller that needs them consistent compares data
  // generations around the call.
  PG_TRY(Rows rows, db->Exec("SELECT " PG_LINE_READ_COLUMNS
                             " FROM lines WHERE device_id = ANY($1::bigint[]) ORDER BY device_id, idx",
                             Params().BindText(1, IntArray(ids))));
  PG_TRY(page.lines, ReadAll<core::Line>(rows, [this](const Row& row) { return rows::ReadLine(row, box_); }));
  return page;
}

Result<FleetPage> PostgresStore::ReadFleetPage(std::int64_t after_id, size_t limit) {
  return ReadFleet("SELECT " PG_DEVICE_COLUMNS " FROM devices WHERE id > $1 ORDER BY id LIMIT $2",
                   Params().BindInt(1, after_id).BindInt(2, static_cast<std::int64_t>(limit)));
}

Result<FleetPage> PostgresStore::ReadFleetDevices(const std::vector<std::int64_t>& ids) {
  return ReadFleet("SELECT " PG_DEVICE_COLUMNS " FROM devices WHERE id = ANY($1::bigint[]) ORDER BY id",
                   Params().BindText(1, IntArray(ids)));
}

Result<std::vector<core::Line>> PostgresStore::ListLines(std::int64_t device_id) {
  PG_TRY(auto db, pool_->Acquire());
  PG_TRY(Rows rows, db->Exec("SELECT " PG_LINE_READ_COLUMNS " FROM lines WHERE device_id = $1 ORDER BY idx",
                             Params().BindInt(1, device_id)));
  return ReadAll<core::Line>(rows, [this](const Row& row) { return rows::ReadLine(row, box_); });
}

Status PostgresStore::RemoveLine(std::int64_t device_id, int index) {
  ChangeNotice notice(*changes_, ChangedKey::Device(device_id));
  PG_TRY(auto db, pool_->Acquire());
  PG_TRY(Rows rows, db->Exec("DELETE FROM lines WHERE device_id = $1 AND idx = $2",
                             Params().BindInt(1, device_id).BindInt(2, index)));
  if (rows.Changed() == 0) {
    return Error::NotFound(fmt::format("line {} of device {} does not exist", index, device_id));
  }
  return Ok();
}

// --- Audit ---

namespace {

constexpr const char* kInsertAudit =
    "INSERT INTO audit(time, kind, mac, decision, reason, json, tenant_id) VALUES ($1, $2, $3, $4, $5, $6, $7)";

Params AuditParams(const StoredAuditEvent& e) {
  Params p;
  p.BindInt(1, e.time).BindText(2, e.kind).BindText(3, e.mac).BindText(4, e.decision);
  p.BindText(5, e.reason).BindText(6, e.json).BindInt(7, e.tenant_id);
  return p;
}

Params SeenParams(const DeviceSeen& d) {
  Params p;
  p.BindInt(1, d.device_id).BindInt(2, d.time).BindText(3, d.ip).BindText(4, d.user_agent).BindText(5, d.firmware);
  return p;
}

}  // namespace

Status PostgresStore::InsertAudit(Connection& db, const StoredAuditEvent& e) {
  return db.Run(kInsertAudit, AuditParams(e));
}

Status PostgresStore::AppendAudit(const StoredAuditEvent& e) {
  PG_TRY(auto db, pool_->Acquire());
  return InsertAudit(*db, e);
}

Status PostgresStore::AppendAuditBatch(const std::vector<StoredAuditEvent>& events, const std::vector<DeviceSeen>& seen,
                                       const std::optional<AuditCopyMark>& mark) {
  if (events.empty() && seen.empty() && !mark) return Ok();
  if (mark && (mark->offset < 0 || mark->seq < 0)) {
    return Error::InvalidArgument("audit copy mark offset and sequence must not be negative");
  }
  PG_TRY(auto db, pool_->Acquire());
  PG_TRY(postgres::Transaction tx, postgres::Transaction::Begin(*db));
  // Each list in one round trip, however long the batch.
  std::vector<Params> rows;
  rows.reserve(std::max(events.size(), seen.size()));
  for (const auto& e : events) rows.push_back(AuditParams(e));
  PG_TRY_STATUS(db->RunEach(kInsertAudit, rows));
  rows.clear();
  for (const auto& d : seen) rows.push_back(SeenParams(d));
  PG_TRY_STATUS(
      db->RunEach("UPDATE devices SET last_seen_at = $2, last_seen_ip = $3, last_user_agent = $4, "
                  "firmware = CASE WHEN $5::text = '' THEN firmware ELSE $5::text END WHERE id = $1",
                  rows));
  if (mark) {
    Params p;
    p.BindText(1, mark->file).BindInt(2, mark->offset).BindText(3, mark->run).BindInt(4, mark->seq);
    PG_TRY_STATUS(
        db->Run("INSERT INTO audit_copy_marks(file, file_offset, run, seq) VALUES ($1, $2, $3, $4) "
                "ON CONFLICT (file) DO UPDATE SET file_offset = excluded.file_offset, run = excluded.run, "
                "seq = excluded.seq",
                p));
  }
  return tx.Commit();
}

Result<std::optional<AuditCopyMark>> PostgresStore::FindAuditCopyMark(const std::string& file) {
  PG_TRY(auto db, pool_->Acquire());
  PG_TRY(Rows rows,
         db->Exec("SELECT file_offset, run, seq FROM audit_copy_marks WHERE file = $1", Params().BindText(1, file)));
  if (rows.empty()) return std::optional<AuditCopyMark>();
  const Row row = rows[0];
  return std::optional<AuditCopyMark>(
      AuditCopyMark{.file = file, .offset = row.Int(0), .run = row.Text(1), .seq = row.Int(2)});
}

Result<std::vector<StoredAuditEvent>> PostgresStore::ListAudit(const std::string& mac, int limit) {
  if (limit <= 0) return Error::InvalidArgument("audit list limit must be positive");
  PG_TRY(auto db, pool_->Acquire());
  // Two statements rather than "($1 = '' OR mac = $1)", so the per-device query can walk the
  // (mac, id) index backwards.
  auto rows = mac.empty() ? db->Exec("SELECT " PG_AUDIT_ROW_COLUMNS " FROM audit ORDER BY id DESC LIMIT $1",
                                     Params().BindInt(1, limit))
                          : db->Exec("SELECT " PG_AUDIT_ROW_COLUMNS
                                     " FROM audit WHERE mac = $1 "
                                     "ORDER BY id DESC LIMIT $2",
                                     Params().BindText(1, mac).BindInt(2, limit));
  if (!rows) return rows.error();
  return ReadAll<StoredAuditEvent>(*rows,
                                   [](const Row& row) -> Result<StoredAuditEvent> { return rows::ReadAuditRow(row); });
}

// --- Lifecycle ---

Result<std::vector<core::Line>> PostgresStore::ClaimPasswords(std::int64_t device_id, const std::vector<int>& indexes,
                                                              std::int64_t now, std::string_view claim) {
  if (indexes.empty()) return std::vector<core::Line>{};
  ChangeNotice notice(*changes_, ChangedKey::Device(device_id));
  PG_TRY(auto db, pool_->Acquire());
  // One statement: a concurrent claimer of the same line waits for this row lock and then
  // finds delivered_at set (READ COMMITTED re-checks the WHERE clause on the new row), so
  // RETURNING hands each line to exactly one caller, on any node.
  Params p;
  p.BindInt(1, device_id).BindInt(2, now).BindText(3, IntArray(indexes)).BindText(4, claim);
  PG_TRY(Rows rows, db->Exec("UPDATE lines SET delivered_at = $2, claim = $4, claim_in_flight = 1 "
                             "WHERE device_id = $1 AND delivered_at IS NULL AND password_enc IS NOT NULL AND "
                             "idx = ANY($3::bigint[]) RETURNING " PG_LINE_READ_COLUMNS,
                             p));
  return ReadAll<core::Line>(rows, [this](const Row& row) { return rows::ReadLine(row, box_); });
}

Result<std::vector<int>> PostgresStore::WipeDeliveredPasswords(std::int64_t device_id,
                                                               std::int64_t delivered_at_or_before) {
  ChangeNotice notice(*changes_, ChangedKey::Device(device_id));
  PG_TRY(auto db, pool_->Acquire());
  PG_TRY(Rows rows, db->Exec("UPDATE lines SET password_enc = NULL WHERE device_id = $1 AND "
                             "password_enc IS NOT NULL AND delivered_at <= $2 AND claim_in_flight = 0 RETURNING idx",
                             Params().BindInt(1, device_id).BindInt(2, delivered_at_or_before)));
  return ReadAll<int>(rows, [](const Row& row) -> Result<int> { return static_cast<int>(row.Int(0)); });
}

Result<bool> PostgresStore::ReleaseClaim(std::int64_t device_id, std::string_view claim, std::size_t lines) {
  ChangeNotice notice(*changes_, ChangedKey::Device(device_id));
  PG_TRY(auto db, pool_->Acquire());
  // All or nothing: the claim's lines still in flight are locked first (a concurrent
  // GiveBackAbandonedClaim or new password is waited for, and READ COMMITTED re-checks the
  // row it committed, leaving it out), then counted, then released only if none is missing.
  PG_TRY(Rows rows,
         db->Exec("WITH held AS (SELECT idx FROM lines WHERE device_id = $1 AND claim = $2 AND "
                  "claim_in_flight = 1 AND delivered_at IS NOT NULL AND password_enc IS NOT NULL "
                  "FOR UPDATE) "
                  "UPDATE lines SET claim_in_flight = 0 WHERE device_id = $1 AND "
                  "idx IN (SELECT idx FROM held) AND (SELECT count(*) FROM held) = $3",
                  Params().BindInt(1, device_id).BindText(2, claim).BindInt(3, static_cast<std::int64_t>(lines))));
  return rows.Changed() == static_cast<std::int64_t>(lines);
}

Result<GivenBack> PostgresStore::GiveBackAbandonedClaim(std::int64_t device_id, std::string_view claim,
                                                        std::int64_t claimed_before) {
  return GiveBackClaim(device_id, claim, claimed_before);
}

Result<bool> PostgresStore::TransitionState(std::int64_t device_id, core::DeviceState from, core::DeviceState to,
                                            std::int64_t now) {
  Params p;
  p.BindInt(1, device_id).BindText(2, core::DeviceStateName(from));
  p.BindText(3, core::DeviceStateName(to)).BindInt(4, now);
  ChangeNotice notice(*changes_, ChangedKey::Device(device_id));
  PG_TRY(auto db, pool_->Acquire());
  PG_TRY(Rows rows, db->Exec("UPDATE devices SET state = $3, state_changed_at = $4, "
                             "updated_at = $4 WHERE id = $1 AND state = $2",
                             p));
  return rows.Changed() > 0;
}

Status PostgresStore::ReplaceDevice(const core::Device& d, const std::vector<core::Line>& lines) {
  std::vector<std::optional<std::vector<unsigned char>>> sealed;
  for (const auto& l : lines) {
    PG_TRY_STATUS(ValidateLine(l));
    sealed.push_back(l.password ? std::optional(box_.Seal(*l.password)) : std::nullopt);
  }
  ChangeNotice notice(*changes_, ChangedKey::Device(d.id));
  PG_TRY(auto db, pool_->Acquire());
  PG_TRY(postgres::Transaction tx, postgres::Transaction::Begin(*db));
  PG_TRY_STATUS(WriteDevice(*db, d, ServerColumns::kReplace));
  PG_TRY_STATUS(db->Run("DELETE FROM lines WHERE device_id = $1", Params().BindInt(1, d.id)));
  for (size_t i = 0; i < lines.size(); ++i) {
    core::Line l = lines[i];
    l.device_id = d.id;
    PG_TRY_STATUS(UpsertLine(*db, l, sealed[i]));
  }
  return tx.Commit();
}

Status PostgresStore::ImportDeviceRows(const DeviceRowSource& next, const std::function<void(size_t)>& progress) {
  ChangeNotice notice(*changes_, std::nullopt);
  const std::int64_t now = ToUnix(clock_.Now());
  PG_TRY(auto db, pool_->Acquire());
  PG_TRY(postgres::Transaction tx, postgres::Transaction::Begin(*db));
  size_t written = 0;
  for (;;) {
    PG_TRY(auto row, next());
    if (!row) break;
    PG_TRY(core::Device added, InsertDevice(*db, row->device, now));
    for (core::Line& l : row->lines) {
      PG_TRY_STATUS(ValidateLine(l));
      l.device_id = added.id;
      PG_TRY_STATUS(UpsertLine(*db, l, l.password ? std::optional(box_.Seal(*l.password)) : std::nullopt));
    }
    if (progress && ++written % 1000 == 0) progress(written);
  }
  PG_TRY_STATUS(tx.Commit());
  if (progress) progress(written);
  return Ok();
}

Result<bool> PostgresStore::PinDevice(std::int64_t device_id, const std::string& spki_sha256) {
  ChangeNotice notice(*changes_, ChangedKey::Device(device_id));
  PG_TRY(auto db, pool_->Acquire());
  PG_TRY(Rows rows, db->Exec("UPDATE devices SET pin_spki = $2 WHERE id = $1 AND pin_spki = ''",
                             Params().BindInt(1, device_id).BindText(2, spki_sha256)));
  return rows.Changed() > 0;
}

Status PostgresStore::LockDevice(std::int64_t device_id, const std::string& reason) {
  ChangeNotice notice(*changes_, ChangedKey::Device(device_id));
  PG_TRY(auto db, pool_->Acquire());
  PG_TRY(Rows rows, db->Exec("UPDATE devices SET locked_reason = $2 WHERE id = $1",
                             Params().BindInt(1, device_id).BindText(2, reason)));
  if (rows.Changed() == 0) return DeviceMissing(device_id);
  return Ok();
}

Status PostgresStore::ClearPin(std::int64_t device_id) {
  ChangeNotice notice(*changes_, ChangedKey::Device(device_id));
  PG_TRY(auto db, pool_->Acquire());
  PG_TRY(Rows rows, db->Exec("UPDATE devices SET pin_spki = '' WHERE id = $1", Params().BindInt(1, device_id)));
  if (rows.Changed() == 0) return DeviceMissing(device_id);
  return Ok();
}

Result<bool> PostgresStore::MarkConfigKeyDelivered(std::int64_t device_id, std::int64_t now, std::string_view claim) {
  ChangeNotice notice(*changes_, ChangedKey::Device(device_id));
  PG_TRY(auto db, pool_->Acquire());
  PG_TRY(Rows rows, db->Exec("UPDATE devices SET config_key_delivered_at = $2, config_key_claim = $3 "
                             "WHERE id = $1 AND config_key_delivered_at IS NULL",
                             Params().BindInt(1, device_id).BindInt(2, now).BindText(3, claim)));
  return rows.Changed() > 0;
}

Result<bool> PostgresStore::EndEngineerWindow(std::int64_t device_id, std::int64_t window_end,
                                              const std::string& admin_password) {
  ChangeNotice notice(*changes_, ChangedKey::Device(device_id));
  PG_TRY(auto db, pool_->Acquire());
  Params p;
  p.BindInt(1, device_id)
      .BindInt(2, window_end)
      .BindBlob(3, rows::Seal(box_, std::optional<std::string>(admin_password)));
  PG_TRY(Rows rows, db->Exec("UPDATE devices SET admin_password_enc = $3, engineer_window_ends = NULL "
                             "WHERE id = $1 AND engineer_window_ends = $2",
                             p));
  return rows.Changed() > 0;
}

Result<GivenBack> PostgresStore::GiveBackUndelivered(std::int64_t device_id, std::string_view claim) {
  return GiveBackClaim(device_id, claim, std::nullopt);
}

Result<GivenBack> PostgresStore::GiveBackClaim(std::int64_t device_id, std::string_view claim,
                                               std::optional<std::int64_t> abandoned_before) {
  ChangeNotice notice(*changes_, ChangedKey::Device(device_id));
  PG_TRY(auto db, pool_->Acquire());
  PG_TRY(postgres::Transaction tx, postgres::Transaction::Begin(*db));
  GivenBack given;
  PG_TRY(Rows lines, db->Exec("UPDATE lines SET delivered_at = NULL, claim = NULL, claim_in_flight = 0 "
                              "WHERE device_id = $1 AND claim = $2 AND delivered_at IS NOT NULL AND "
                              "password_enc IS NOT NULL AND "
                              "($3::bigint IS NULL OR (claim_in_flight = 1 AND delivered_at < $3::bigint)) "
                              "RETURNING idx",
                              Params().BindInt(1, device_id).BindText(2, claim).BindInt(3, abandoned_before)));
  PG_TRY(given.lines, ReadAll<int>(lines, [](const Row& row) -> Result<int> { return static_cast<int>(row.Int(0)); }));
  // An abandoned claim's key mark goes back only with its lines in flight: those prove its
  // response never left.
  if (!abandoned_before || !given.lines.empty()) {
    PG_TRY(given.config_key, UnmarkConfigKey(*db, device_id, claim));
  }
  PG_TRY_STATUS(tx.Commit());
  std::sort(given.lines.begin(), given.lines.end());
  return given;
}

// --- Bans ---

Status PostgresStore::SaveBan(const defense::Ban& ban) {
  Params p;
  p.BindText(1, ban.source).BindText(2, ban.reason).BindInt(3, ban.created);
  p.BindInt(4, ban.expires).BindInt(5, ban.offence_count);
  PG_TRY(auto db, pool_->Acquire());
  return db->Run(
      "INSERT INTO bans(source, reason, created, expires, offences) "
      "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (source) DO UPDATE SET "
      "reason = excluded.reason, created = excluded.created, "
      "expires = excluded.expires, offences = excluded.offences",
      p);
}

Result<std::vector<defense::Ban>> PostgresStore::LoadActiveBans(std::int64_t now) {
  PG_TRY(auto db, pool_->Acquire());
  PG_TRY(Rows rows, db->Exec("SELECT source, reason, created, expires, offences FROM bans "
                             "WHERE expires > $1 ORDER BY source",
                             Params().BindInt(1, now)));
  return ReadAll<defense::Ban>(rows, [](const Row& row) -> Result<defense::Ban> {
    return defense::Ban{row.Text(0), row.Text(1), row.Int(2), row.Int(3), static_cast<int>(row.Int(4))};
  });
}

Status PostgresStore::RemoveBan(const std::string& source) {
  PG_TRY(auto db, pool_->Acquire());
  PG_TRY(Rows rows, db->Exec("DELETE FROM bans WHERE source = $1", Params().BindText(1, source)));
  if (rows.Changed() == 0) return Error::NotFound("no ban for " + source);
  return Ok();
}

}  // namespace provgate::store
