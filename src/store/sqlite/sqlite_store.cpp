#include "store/sqlite/sqlite_store.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "store/rows.hpp"
#include "store/sqlite/migrate.hpp"

namespace provgate::store {
namespace {

using rows::BindDeviceExtra;
using rows::BindTenantPolicy;
using rows::DeviceMissing;
using rows::DumpVars;
using rows::ReadDevice;
using rows::ReadTenant;
using rows::TenantMissing;
using rows::ValidateLine;
using sqlite::Connection;
using sqlite::Statement;

// Every provgate process on the host (server, CLI) shares the file; five seconds rides out
// another writer's transaction without hanging a request for long.
constexpr int kBusyTimeoutMs = 5000;

// SQLite would create the file 0644 (minus umask). It holds tenant data, hashed tokens and
// sealed passwords, so it is created owner-only; the -wal and -shm files inherit the mode.
Status CreateOwnerOnly(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    ::close(fd);
    return Ok();
  }
  if (errno == EEXIST) return Ok();
  return Error::Internal(fmt::format("creating database {}: {}", path.string(), std::strerror(errno)));
}

// Bumps the change counter when the write method that declares it returns: declared before
// the method's lock, it runs after the statement or transaction has committed. A write that
// changed nothing bumps too; a cache re-reads once, which is cheaper than telling the two apart.
class ChangeNotice {
 public:
  explicit ChangeNotice(sqlite::ChangeCounter& counter) : counter_(counter) {}
  ~ChangeNotice() { counter_.Bump(); }
  ChangeNotice(const ChangeNotice&) = delete;
  ChangeNotice& operator=(const ChangeNotice&) = delete;

 private:
  sqlite::ChangeCounter& counter_;
};

Status Configure(Connection& db) {
  if (int rc = sqlite3_busy_timeout(db.handle(), kBusyTimeoutMs); rc != SQLITE_OK) {
    return sqlite::ErrorFromSqlite(db.handle(), rc, "setting busy timeout");
  }
  PG_TRY(std::string mode, db.QueryText("PRAGMA journal_mode = WAL"));
  if (mode != "wal") {
    return Error::Internal(
        fmt::format("database {}: SQLite refused WAL journal mode (got '{}'); the file must be on a local "
                    "filesystem that supports shared memory",
                    db.path().string(), mode));
  }
  // NORMAL in WAL mode survives a process crash; only a power cut can lose the last commits.
  // That is acceptable here because audit durability does not rest on this database: the
  // audit module appends every security-relevant record to its own fsync'd file before the
  // response, and the audit table is a queryable copy.
  PG_TRY_STATUS(db.Exec("PRAGMA synchronous = NORMAL"));
  return Ok();
}

bool IsUniqueViolation(const Statement& s) {
  return s.last_error() == SQLITE_CONSTRAINT_UNIQUE || s.last_error() == SQLITE_CONSTRAINT_PRIMARYKEY;
}
bool IsForeignKeyViolation(const Statement& s) { return s.last_error() == SQLITE_CONSTRAINT_FOREIGNKEY; }

template <class T, class Reader>
Result<std::vector<T>> ReadAll(Statement& s, Reader read) {
  std::vector<T> out;
  for (;;) {
    PG_TRY(bool row, s.Step());
    if (!row) return out;
    PG_TRY(T item, read(s));
    out.push_back(std::move(item));
  }
}

}  // namespace

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::filesystem::path& db, const crypto::SecretBox& box,
                                                       const Clock& clock) {
  PG_TRY_STATUS(CreateOwnerOnly(db));
  PG_TRY(Connection conn, Connection::Open(db));
  // Start-up errors are fatal and read by an operator: make sure each names the file.
  auto with_path = [&db](Error e) {
    if (e.message.find(db.string()) == std::string::npos) {
      e.message = fmt::format("database {}: {}", db.string(), e.message);
    }
    return e;
  };
  if (auto r = Configure(conn); !r) return with_path(r.error());
  const auto version_before = sqlite::CurrentSchemaVersion(conn);
  if (auto r = sqlite::Migrate(conn, ToUnix(clock.Now())); !r) return with_path(r.error());
  // Beside the file SQLite opened, symlinks resolved, so every path to one database shares
  // one counter.
  const std::filesystem::path opened = sqlite3_db_filename(conn.handle(), "main");
  struct stat db_stat {};
  if (::stat(opened.c_str(), &db_stat) != 0) {
    return with_path(Error::Unavailable(fmt::format("cannot stat: {}", std::strerror(errno))));
  }
  PG_TRY(auto changes, sqlite::ChangeCounter::Open(ChangeCounterPath(opened), db_stat));
  if (const auto version_after = sqlite::CurrentSchemaVersion(conn);
      !version_before || !version_after || *version_after != *version_before) {
    changes.Bump();  // the migration may have changed rows a running server has cached
  }
  return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(conn), std::move(changes), box, clock));
}

std::filesystem::path SqliteStore::ChangeCounterPath(const std::filesystem::path& db) {
  return db.string() + "-changes";
}

std::uint64_t SqliteStore::DataGeneration() { return changes_.Load(); }

DataChanges SqliteStore::ChangesSince(std::uint64_t generation) {
  DataChanges changes{changes_.Load(), std::vector<ChangedKey>{}};
  if (changes.upto != generation) changes.keys.reset();
  return changes;
}

Result<FleetPage> SqliteStore::ReadFleet(const char* devices_sql, const std::function<void(Statement&)>& bind) {
  std::lock_guard lock(mu_);
  FleetPage page;
  {
    PG_TRY(Statement s, db_.Prepare(devices_sql));
    bind(s);
    PG_TRY(page.devices, ReadAll<core::Device>(s, [this](const Statement& row) { return ReadDevice(row, box_); }));
  }
  if (page.devices.empty()) return page;
  nlohmann::json ids = nlohmann::json::array();
  for (const auto& d : page.devices) ids.push_back(d.id);
  // Two statements, not one snapshot: a caller that needs them consistent compares data
  // generations around the call.
  PG_TRY(Statement s,
         db_.Prepare("SELECT " PG_LINE_READ_COLUMNS " FROM lines WHERE device_id IN (SELECT value FROM json_each(?1)) "
                     "ORDER BY device_id, idx"));
  s.BindText(1, ids.dump());
  PG_TRY(page.lines, ReadAll<core::Line>(s, [this](const Statement& row) { return rows::ReadLine(row, box_); }));
  return page;
}

Result<FleetPage> SqliteStore::ReadFleetPage(std::int64_t after_id, size_t limit) {
  return ReadFleet("SELECT " PG_DEVICE_COLUMNS " FROM devices WHERE id > ?1 ORDER BY id LIMIT ?2", [&](Statement& s) {
    s.BindInt(1, after_id);
    s.BindInt(2, static_cast<std::int64_t>(limit));
  });
}

Result<FleetPage> SqliteStore::ReadFleetDevices(const std::vector<std::int64_t>& ids) {
  const std::string list = nlohmann::json(ids).dump();
  return ReadFleet("SELECT " PG_DEVICE_COLUMNS
                   " FROM devices WHERE id IN (SELECT value FROM json_each(?1)) ORDER BY id",
                   [&](Statement& s) { s.BindText(1, list); });
}

// --- Tenants ---

Result<core::Tenant> SqliteStore::AddTenant(const core::Tenant& t) {
  PG_TRY(std::string vars, DumpVars(t.vars, fmt::format("tenant {}", t.name)));
  ChangeNotice notice(changes_);
  std::lock_guard lock(mu_);
  PG_TRY(Statement s,
         db_.Prepare("INSERT INTO tenants(name, display_name, window_days, vars, password_policy, "
                     "confirm_grace_seconds, password_length, password_alphabet, retention_days, "
                     "min_strength, ip_ranges, ip_as_identity, allow_plain_http, anomaly_lock, "
                     "anomaly_prefix_v4, anomaly_prefix_v6, late_first_fetch_days, lock_on_misuse) "
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)"));
  s.BindText(1, t.name).BindText(2, t.display_name).BindInt(3, t.window_days).BindText(4, vars);
  BindTenantPolicy(s, t, 5);
  if (auto r = s.Run(); !r) {
    if (IsUniqueViolation(s)) return Error::AlreadyExists(fmt::format("tenant {} already exists", t.name));
    return r.error();
  }
  core::Tenant out = t;
  out.id = s.LastInsertRowId();
  return out;
}

Result<core::Tenant> SqliteStore::GetTenant(std::int64_t id) {
  std::lock_guard lock(mu_);
  PG_TRY(Statement s, db_.Prepare("SELECT " PG_TENANT_COLUMNS " FROM tenants WHERE id = ?1"));
  s.BindInt(1, id);
  PG_TRY(bool row, s.Step());
  if (!row) return TenantMissing(id);
  return ReadTenant(s);
}

Result<core::Tenant> SqliteStore::FindTenant(const std::string& name) {
  std::lock_guard lock(mu_);
  PG_TRY(Statement s, db_.Prepare("SELECT " PG_TENANT_COLUMNS " FROM tenants WHERE name = ?1"));
  s.BindText(1, name);
  PG_TRY(bool row, s.Step());
  if (!row) return Error::NotFound(fmt::format("tenant {} does not exist", name));
  return ReadTenant(s);
}

Result<std::vector<core::Tenant>> SqliteStore::ListTenants() {
  std::lock_guard lock(mu_);
  PG_TRY(Statement s, db_.Prepare("SELECT " PG_TENANT_COLUMNS " FROM tenants ORDER BY name"));
  return ReadAll<core::Tenant>(s, [](const Statement& row) { return ReadTenant(row); });
}

Status SqliteStore::UpdateTenant(const core::Tenant& t) {
  PG_TRY(std::string vars, DumpVars(t.vars, fmt::format("tenant {}", t.name)));
  ChangeNotice notice(changes_);
  std::lock_guard lock(mu_);
  PG_TRY(Statement s, db_.Prepare("UPDATE tenants SET name = ?2, display_name = ?3, window_days = ?4, vars = ?5, "
                                  "password_policy = ?6, confirm_grace_seconds = ?7, password_length = ?8, "
                                  "password_alphabet = ?9, retention_days = ?10, min_strength = ?11, "
                                  "ip_ranges = ?12, ip_as_identity = ?13, allow_plain_http = ?14, "
                                  "anomaly_lock = ?15, anomaly_prefix_v4 = ?16, anomaly_prefix_v6 = ?17, "
                                  "late_first_fetch_days = ?18, lock_on_misuse = ?19 WHERE id = ?1"));
  s.BindInt(1, t.id).BindText(2, t.name).BindText(3, t.display_name).BindInt(4, t.window_days);
  s.BindText(5, vars);
  BindTenantPolicy(s, t, 6);
  if (auto r = s.Run(); !r) {
    if (IsUniqueViolation(s)) return Error::AlreadyExists(fmt::format("tenant {} already exists", t.name));
    return r.error();
  }
  if (s.Changes() == 0) return TenantMissing(t.id);
  return Ok();
}

// --- Devices ---

Result<core::Device> SqliteStore::InsertDeviceLocked(const core::Device& d, std::int64_t now) {
  PG_TRY(std::string vars, DumpVars(d.vars, fmt::format("device {}", d.mac.str())));
  PG_TRY(Statement s,
         db_.Prepare("INSERT INTO devices(mac, vendor, model, tenant_id, state, window_opens, window_expires, "
                     "serial, vars, created_at, updated_at, token_hash, state_changed_at, " PG_DEVICE_EXTRA ") "
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, "
                     "?18, ?19, ?20, ?21, ?22, ?23)"));
  s.BindText(1, d.mac.str()).BindText(2, d.vendor).BindText(3, d.model).BindInt(4, d.tenant_id);
  s.BindText(5, core::DeviceStateName(d.state)).BindInt(6, d.window_opens);
  s.BindInt(7, d.window_expires).BindText(8, d.serial).BindText(9, vars).BindInt(10, now);
  s.BindText(11, d.token_hash).BindInt(12, d.state_changed_at.value_or(now));
  BindDeviceExtra(s, d, 13, box_);
  if (auto r = s.Run(); !r) {
    if (IsUniqueViolation(s)) {
      return Error::AlreadyExists(fmt::format("device {} already exists", d.mac.str()));
    }
    if (IsForeignKeyViolation(s)) return TenantMissing(d.tenant_id.value_or(0));
    return r.error();
  }
  core::Device out = d;
  out.id = s.LastInsertRowId();
  out.created_at = now;
  out.updated_at = now;
  out.state_changed_at = d.state_changed_at.value_or(now);
  return out;
}

Result<core::Device> SqliteStore::AddDevice(const core::Device& d) {
  ChangeNotice notice(changes_);
  std::lock_guard lock(mu_);
  return InsertDeviceLocked(d, ToUnix(clock_.Now()));
}

Result<core::Device> SqliteStore::FindDevice(const core::MacAddress& mac) {
  std::lock_guard lock(mu_);
  PG_TRY(Statement s, db_.Prepare("SELECT " PG_DEVICE_COLUMNS " FROM devices WHERE mac = ?1"));
  s.BindText(1, mac.str());
  PG_TRY(bool row, s.Step());
  if (!row) return Error::NotFound(fmt::format("device {} does not exist", mac.str()));
  return ReadDevice(s, box_);
}

Result<std::vector<core::Device>> SqliteStore::ListDevices(const DeviceFilter& filter) {
  std::lock_guard lock(mu_);
  PG_TRY(Statement s, db_.Prepare("SELECT " PG_DEVICE_COLUMNS " FROM devices "
                                  "WHERE (?1 IS NULL OR tenant_id = ?1) AND (?2 IS NULL OR state = ?2) "
                                  "AND (?3 = 0 OR vars <> '{}') ORDER BY mac"));
  s.BindInt(1, filter.tenant_id);
  s.BindInt(3, filter.with_own_vars_only ? 1 : 0);
  if (filter.state) {
    s.BindText(2, core::DeviceStateName(*filter.state));
  } else {
    s.BindNull(2);
  }
  return ReadAll<core::Device>(s, [this](const Statement& row) { return ReadDevice(row, box_); });
}

Result<std::vector<core::Device>> SqliteStore::ListModelRepresentatives(std::int64_t tenant_id) {
  std::lock_guard lock(mu_);
  PG_TRY(Statement s, db_.Prepare("SELECT " PG_DEVICE_COLUMNS " FROM devices WHERE id IN "
                                  "(SELECT MIN(id) FROM devices WHERE tenant_id = ?1 AND state <> ?2 "
                                  "GROUP BY vendor, model) ORDER BY vendor, model"));
  s.BindInt(1, tenant_id).BindText(2, core::DeviceStateName(core::DeviceState::kRetired));
  return ReadAll<core::Device>(s, [this](const Statement& row) { return ReadDevice(row, box_); });
}

Status SqliteStore::UpdateDeviceLocked(const core::Device& d, ServerColumns server_columns) {
  PG_TRY(std::string vars, DumpVars(d.vars, fmt::format("device {}", d.mac.str())));
  // The columns the server itself changes while it serves (pin, lock, last seen) are left
  // alone unless the caller replaces them on purpose: an admin edit that read the row a
  // moment earlier must not undo a lock or pin the server has just set.
  PG_TRY(
      Statement s,
      db_.Prepare(
          server_columns == ServerColumns::kReplace
              ? "UPDATE devices SET mac = ?2, vendor = ?3, model = ?4, tenant_id = ?5, state = ?6, "
                "window_opens = ?7, window_expires = ?8, serial = ?9, vars = ?10, updated_at = ?11, "
                "token_hash = ?12, state_changed_at = ?13, config_key_enc = ?14, "
                "digest_password_enc = ?15, pin_spki = ?16, locked_reason = ?17, "
                "last_seen_at = ?18, last_seen_ip = ?19, last_user_agent = ?20, firmware = ?21, "
                "config_key_delivered_at = ?22, admin_password_enc = ?23, engineer_window_ends = ?24 WHERE id = ?1"
              : "UPDATE devices SET mac = ?2, vendor = ?3, model = ?4, tenant_id = ?5, state = ?6, "
                "window_opens = ?7, window_expires = ?8, serial = ?9, vars = ?10, updated_at = ?11, "
                "token_hash = ?12, state_changed_at = ?13, config_key_enc = ?14, "
                "digest_password_enc = ?15, "
                "config_key_delivered_at = ?22, admin_password_enc = ?23, engineer_window_ends = ?24 WHERE id = ?1"));
  s.BindInt(1, d.id).BindText(2, d.mac.str()).BindText(3, d.vendor).BindText(4, d.model);
  s.BindInt(5, d.tenant_id).BindText(6, core::DeviceStateName(d.state));
  s.BindInt(7, d.window_opens).BindInt(8, d.window_expires).BindText(9, d.serial);
  s.BindText(10, vars).BindInt(11, ToUnix(clock_.Now())).BindText(12, d.token_hash);
  s.BindInt(13, d.state_changed_at);
  BindDeviceExtra(s, d, 14, box_);
  if (auto r = s.Run(); !r) {
    if (IsUniqueViolation(s)) {
      return Error::AlreadyExists(fmt::format("device {} already exists", d.mac.str()));
    }
    if (IsForeignKeyViolation(s)) return TenantMissing(d.tenant_id.value_or(0));
    return r.error();
  }
  if (s.Changes() == 0) return DeviceMissing(d.id);
  return Ok();
}

Status SqliteStore::UpdateDevice(const core::Device& d) {
  ChangeNotice notice(changes_);
  std::lock_guard lock(mu_);
  return UpdateDeviceLocked(d, ServerColumns::kKeep);
}

Status SqliteStore::RemoveDevice(const core::MacAddress& mac) {
  ChangeNotice notice(changes_);
  std::lock_guard lock(mu_);
  // Lines go with the device through ON DELETE CASCADE, in the same statement.
  PG_TRY(Statement s, db_.Prepare("DELETE FROM devices WHERE mac = ?1"));
  s.BindText(1, mac.str());
  PG_TRY_STATUS(s.Run());
  if (s.Changes() == 0) return Error::NotFound(fmt::format("device {} does not exist", mac.str()));
  return Ok();
}

// --- Lines ---

Status SqliteStore::UpsertLineLocked(const core::Line& line, const std::optional<std::vector<unsigned char>>& sealed) {
  PG_TRY(Statement s,
         db_.Prepare("INSERT INTO lines(" PG_LINE_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
                     "ON CONFLICT (device_id, idx) DO UPDATE SET display_name = excluded.display_name, "
                     "user = excluded.user, auth_user = excluded.auth_user, registrar = excluded.registrar, "
                     "port = excluded.port, transport = excluded.transport, "
                     "password_enc = excluded.password_enc, delivered_at = excluded.delivered_at, "
                     "claim_in_flight = CASE WHEN excluded.delivered_at IS NULL THEN 0 ELSE claim_in_flight END"));
  s.BindInt(1, line.device_id).BindInt(2, line.index).BindText(3, line.display_name);
  s.BindText(4, line.user).BindText(5, line.auth_user).BindText(6, line.registrar);
  s.BindInt(7, line.port).BindText(8, core::TransportName(line.transport)).BindBlob(9, sealed);
  s.BindInt(10, line.delivered_at);
  if (auto r = s.Run(); !r) {
    if (IsForeignKeyViolation(s)) return DeviceMissing(line.device_id);
    return r.error();
  }
  return Ok();
}

Status SqliteStore::SetLine(const core::Line& line) {
  PG_TRY_STATUS(ValidateLine(line));
  // Sealed outside the lock: the clear text never reaches SQLite, not even as a bound value.
  std::optional<std::vector<unsigned char>> sealed;
  if (line.password) sealed = box_.Seal(*line.password);
  ChangeNotice notice(changes_);
  std::lock_guard lock(mu_);
  return UpsertLineLocked(line, sealed);
}

Result<std::vector<core::Line>> SqliteStore::ListLines(std::int64_t device_id) {
  std::lock_guard lock(mu_);
  PG_TRY(Statement s, db_.Prepare("SELECT " PG_LINE_READ_COLUMNS " FROM lines WHERE device_id = ?1 ORDER BY idx"));
  s.BindInt(1, device_id);
  return ReadAll<core::Line>(s, [this](const Statement& row) { return rows::ReadLine(row, box_); });
}

Status SqliteStore::RemoveLine(std::int64_t device_id, int index) {
  ChangeNotice notice(changes_);
  std::lock_guard lock(mu_);
  PG_TRY(Statement s, db_.Prepare("DELETE FROM lines WHERE device_id = ?1 AND idx = ?2"));
  s.BindInt(1, device_id).BindInt(2, index);
  PG_TRY_STATUS(s.Run());
  if (s.Changes() == 0) {
    return Error::NotFound(fmt::format("line {} of device {} does not exist", index, device_id));
  }
  return Ok();
}

// --- Audit ---

Status SqliteStore::InsertAuditLocked(const StoredAuditEvent& e) {
  PG_TRY(Statement s, db_.Prepare("INSERT INTO audit(time, kind, mac, decision, reason, json, tenant_id) "
                                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
  // `e` outlives `s`, which clears the bindings when it goes.
  s.BindInt(1, e.time).BindTextUncopied(2, e.kind).BindTextUncopied(3, e.mac).BindTextUncopied(4, e.decision);
  s.BindTextUncopied(5, e.reason).BindTextUncopied(6, e.json).BindInt(7, e.tenant_id);
  return s.Run();
}

Status SqliteStore::AppendAudit(const StoredAuditEvent& e) {
  std::lock_guard lock(mu_);
  return InsertAuditLocked(e);
}

Status SqliteStore::AppendAuditBatch(const std::vector<StoredAuditEvent>& events, const std::vector<DeviceSeen>& seen,
                                     const std::optional<AuditCopyMark>& mark) {
  if (events.empty() && seen.empty() && !mark) return Ok();
  if (mark && (mark->offset < 0 || mark->seq < 0)) {
    return Error::InvalidArgument("audit copy mark offset and sequence must not be negative");
  }
  std::lock_guard lock(mu_);
  PG_TRY(sqlite::Transaction tx, sqlite::Transaction::Begin(db_));
  for (const auto& e : events) PG_TRY_STATUS(InsertAuditLocked(e));
  for (const auto& d : seen) {
    PG_TRY(Statement s, db_.Prepare("UPDATE devices SET last_seen_at = ?2, last_seen_ip = ?3, "
                                    "last_user_agent = ?4, firmware = CASE WHEN ?5 = '' THEN firmware "
                                    "ELSE ?5 END WHERE id = ?1"));
    s.BindInt(1, d.device_id).BindInt(2, d.time).BindText(3, d.ip).BindText(4, d.user_agent).BindText(5, d.firmware);
    PG_TRY_STATUS(s.Run());
  }
  if (mark) {
    PG_TRY(Statement s, db_.Prepare("INSERT INTO audit_copy_marks(file, file_offset, run, seq) "
                                    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT(file) DO UPDATE SET "
                                    "file_offset = excluded.file_offset, run = excluded.run, "
                                    "seq = excluded.seq"));
    s.BindText(1, mark->file).BindInt(2, mark->offset).BindText(3, mark->run).BindInt(4, mark->seq);
    PG_TRY_STATUS(s.Run());
  }
  return tx.Commit();
}

Result<std::optional<AuditCopyMark>> SqliteStore::FindAuditCopyMark(const std::string& file) {
  std::lock_guard lock(mu_);
  PG_TRY(Statement s, db_.Prepare("SELECT file_offset, run, seq FROM audit_copy_marks WHERE file = ?1"));
  s.BindText(1, file);
  PG_TRY(bool row, s.Step());
  if (!row) return std::optional<AuditCopyMark>();
  return std::optional<AuditCopyMark>(
      AuditCopyMark{.file = file, .offset = s.Int(0), .run = s.Text(1), .seq = s.Int(2)});
}

Result<std::vector<StoredAuditEvent>> SqliteStore::ListAudit(const std::string& mac, int limit) {
  if (limit <= 0) return Error::InvalidArgument("audit list limit must be positive");
  std::lock_guard lock(mu_);
  // Two statements rather than "(?1 = '' OR mac = ?1)", so the per-device query can walk the
  // (mac, id) index backwards.
  PG_TRY(Statement s, mac.empty() ? db_.Prepare("SELECT " PG_AUDIT_ROW_COLUMNS " FROM audit ORDER BY id DESC LIMIT ?2")
                                  : db_.Prepare("SELECT " PG_AUDIT_ROW_COLUMNS " FROM audit WHERE mac = ?1 "
                                                "ORDER BY id DESC LIMIT ?2"));
  if (!mac.empty()) s.BindText(1, mac);
  s.BindInt(2, limit);
  return ReadAll<StoredAuditEvent>(
      s, [](const Statement& row) -> Result<StoredAuditEvent> { return rows::ReadAuditRow(row); });
}

Result<int> SqliteStore::SchemaVersion() {
  std::lock_guard lock(mu_);
  return sqlite::CurrentSchemaVersion(db_);
}

Result<std::vector<schema::InvariantViolation>> SqliteStore::CheckInvariants() {
  std::lock_guard lock(mu_);
  // One snapshot for every query: a read transaction (WAL lets writers go on meanwhile).
  PG_TRY_STATUS(db_.Exec("BEGIN DEFERRED"));
  auto broken = schema::CheckInvariants([this](const char* sql) -> Result<std::vector<std::string>> {
    PG_TRY(Statement s, db_.Prepare(sql));
    return ReadAll<std::string>(s, [](const Statement& row) -> Result<std::string> { return row.Text(0); });
  });
  PG_TRY_STATUS(db_.Exec(broken ? "COMMIT" : "ROLLBACK"));
  return broken;
}

// --- Lifecycle ---

Result<std::vector<core::Line>> SqliteStore::ClaimPasswords(std::int64_t device_id, const std::vector<int>& indexes,
                                                            std::int64_t now, std::string_view claim) {
  if (indexes.empty()) return std::vector<core::Line>{};
  ChangeNotice notice(changes_);
  std::lock_guard lock(mu_);
  // One statement: SQLite's write lock makes the check-and-mark atomic across threads and
  // processes, and RETURNING hands back exactly the rows this caller marked.
  PG_TRY(Statement s, db_.Prepare("UPDATE lines SET delivered_at = ?2, claim = ?4, claim_in_flight = 1 "
                                  "WHERE device_id = ?1 AND delivered_at IS NULL AND password_enc IS NOT NULL AND "
                                  "idx IN (SELECT value FROM json_each(?3)) "
                                  "RETURNING " PG_LINE_READ_COLUMNS));
  const std::string index_list = nlohmann::json(indexes).dump();
  s.BindInt(1, device_id).BindInt(2, now).BindText(3, index_list).BindText(4, claim);
  return ReadAll<core::Line>(s, [this](const Statement& row) { return rows::ReadLine(row, box_); });
}

Result<std::vector<int>> SqliteStore::WipeDeliveredPasswords(std::int64_t device_id,
                                                             std::int64_t delivered_at_or_before) {
  ChangeNotice notice(changes_);
  std::lock_guard lock(mu_);
  PG_TRY(Statement s, db_.Prepare("UPDATE lines SET password_enc = NULL WHERE device_id = ?1 AND "
                                  "password_enc IS NOT NULL AND delivered_at <= ?2 AND claim_in_flight = 0 "
                                  "RETURNING idx"));
  s.BindInt(1, device_id).BindInt(2, delivered_at_or_before);
  return ReadAll<int>(s, [](const Statement& row) -> Result<int> { return static_cast<int>(row.Int(0)); });
}

Result<bool> SqliteStore::ReleaseClaim(std::int64_t device_id, std::string_view claim, std::size_t lines) {
  ChangeNotice notice(changes_);
  std::lock_guard lock(mu_);
  // One statement: the count is taken before any row changes, and no other writer (thread or
  // process) comes between.
  PG_TRY(Statement s,
         db_.Prepare("UPDATE lines SET claim_in_flight = 0 WHERE device_id = ?1 AND claim = ?2 AND "
                     "claim_in_flight = 1 AND delivered_at IS NOT NULL AND password_enc IS NOT NULL "
                     "AND (SELECT count(*) FROM lines WHERE device_id = ?1 AND claim = ?2 AND "
                     "claim_in_flight = 1 AND delivered_at IS NOT NULL AND password_enc IS NOT NULL) = ?3"));
  s.BindInt(1, device_id).BindText(2, claim).BindInt(3, static_cast<std::int64_t>(lines));
  PG_TRY_STATUS(s.Run());
  return s.Changes() == static_cast<int>(lines);
}

Result<GivenBack> SqliteStore::GiveBackAbandonedClaim(std::int64_t device_id, std::string_view claim,
                                                      std::int64_t claimed_before) {
  return GiveBackClaim(device_id, claim, claimed_before);
}

Result<bool> SqliteStore::TransitionState(std::int64_t device_id, core::DeviceState from, core::DeviceState to,
                                          std::int64_t now) {
  ChangeNotice notice(changes_);
  std::lock_guard lock(mu_);
  PG_TRY(Statement s, db_.Prepare("UPDATE devices SET state = ?3, state_changed_at = ?4, "
                                  "updated_at = ?4 WHERE id = ?1 AND state = ?2"));
  s.BindInt(1, device_id).BindText(2, core::DeviceStateName(from));
  s.BindText(3, core::DeviceStateName(to)).BindInt(4, now);
  PG_TRY_STATUS(s.Run());
  return s.Changes() > 0;
}

Status SqliteStore::ReplaceDevice(const core::Device& d, const std::vector<core::Line>& lines) {
  std::vector<std::optional<std::vector<unsigned char>>> sealed;
  for (const auto& l : lines) {
    PG_TRY_STATUS(ValidateLine(l));
    sealed.push_back(l.password ? std::optional(box_.Seal(*l.password)) : std::nullopt);
  }
  ChangeNotice notice(changes_);
  std::lock_guard lock(mu_);
  PG_TRY(sqlite::Transaction tx, sqlite::Transaction::Begin(db_));
  PG_TRY_STATUS(UpdateDeviceLocked(d, ServerColumns::kReplace));
  {
    PG_TRY(Statement del, db_.Prepare("DELETE FROM lines WHERE device_id = ?1"));
    del.BindInt(1, d.id);
    PG_TRY_STATUS(del.Run());
  }
  for (size_t i = 0; i < lines.size(); ++i) {
    core::Line l = lines[i];
    l.device_id = d.id;
    PG_TRY_STATUS(UpsertLineLocked(l, sealed[i]));
  }
  return tx.Commit();
}

Status SqliteStore::ImportDeviceRows(const DeviceRowSource& next, const std::function<void(size_t)>& progress) {
  ChangeNotice notice(changes_);
  std::lock_guard lock(mu_);
  const std::int64_t now = ToUnix(clock_.Now());
  PG_TRY(sqlite::Transaction tx, sqlite::Transaction::Begin(db_));
  size_t written = 0;
  for (;;) {
    PG_TRY(auto row, next());
    if (!row) break;
    PG_TRY(core::Device added, InsertDeviceLocked(row->device, now));
    for (core::Line& l : row->lines) {
      PG_TRY_STATUS(ValidateLine(l));
      l.device_id = added.id;
      PG_TRY_STATUS(UpsertLineLocked(l, l.password ? std::optional(box_.Seal(*l.password)) : std::nullopt));
    }
    if (progress && ++written % 1000 == 0) progress(written);
  }
  PG_TRY_STATUS(tx.Commit());
  if (progress) progress(written);
  return Ok();
}

Result<core::Device> SqliteStore::FindDeviceByToken(const std::string& token_hash) {
  if (token_hash.empty()) return Error::NotFound("no device has an empty token");
  std::lock_guard lock(mu_);
  PG_TRY(Statement s, db_.Prepare("SELECT " PG_DEVICE_COLUMNS " FROM devices WHERE token_hash = ?1"));
  s.BindText(1, token_hash);
  PG_TRY(bool row, s.Step());
  if (!row) return Error::NotFound("no device has this token");
  return ReadDevice(s, box_);
}

Result<bool> SqliteStore::PinDevice(std::int64_t device_id, const std::string& spki_sha256) {
  ChangeNotice notice(changes_);
  std::lock_guard lock(mu_);
  PG_TRY(Statement s, db_.Prepare("UPDATE devices SET pin_spki = ?2 WHERE id = ?1 AND pin_spki = ''"));
  s.BindInt(1, device_id).BindText(2, spki_sha256);
  PG_TRY_STATUS(s.Run());
  return s.Changes() > 0;
}

Status SqliteStore::LockDevice(std::int64_t device_id, const std::string& reason) {
  ChangeNotice notice(changes_);
  std::lock_guard lock(mu_);
  PG_TRY(Statement s, db_.Prepare("UPDATE devices SET locked_reason = ?2 WHERE id = ?1"));
  s.BindInt(1, device_id).BindText(2, reason);
  PG_TRY_STATUS(s.Run());
  if (s.Changes() == 0) return DeviceMissing(device_id);
  return Ok();
}

Status SqliteStore::ClearPin(std::int64_t device_id) {
  ChangeNotice notice(changes_);
  std::lock_guard lock(mu_);
  PG_TRY(Statement s, db_.Prepare("UPDATE devices SET pin_spki = '' WHERE id = ?1"));
  s.BindInt(1, device_id);
  PG_TRY_STATUS(s.Run());
  if (s.Changes() == 0) return DeviceMissing(device_id);
  return Ok();
}

Result<bool> SqliteStore::MarkConfigKeyDelivered(std::int64_t device_id, std::int64_t now, std::string_view claim) {
  ChangeNotice notice(changes_);
  std::lock_guard lock(mu_);
  PG_TRY(Statement s, db_.Prepare("UPDATE devices SET config_key_delivered_at = ?2, config_key_claim = ?3 "
                                  "WHERE id = ?1 AND config_key_delivered_at IS NULL"));
  s.BindInt(1, device_id).BindInt(2, now).BindText(3, claim);
  PG_TRY_STATUS(s.Run());
  return s.Changes() > 0;
}

Result<bool> SqliteStore::EndEngineerWindow(std::int64_t device_id, std::int64_t window_end,
                                            const std::string& admin_password) {
  ChangeNotice notice(changes_);
  std::lock_guard lock(mu_);
  PG_TRY(Statement s, db_.Prepare("UPDATE devices SET admin_password_enc = ?3, engineer_window_ends = NULL "
                                  "WHERE id = ?1 AND engineer_window_ends = ?2"));
  s.BindInt(1, device_id)
      .BindInt(2, window_end)
      .BindBlob(3, rows::Seal(box_, std::optional<std::string>(admin_password)));
  PG_TRY_STATUS(s.Run());
  return s.Changes() > 0;
}

Result<bool> SqliteStore::UnmarkConfigKeyLocked(std::int64_t device_id, std::string_view claim) {
  PG_TRY(Statement s, db_.Prepare("UPDATE devices SET config_key_delivered_at = NULL, config_key_claim = NULL "
                                  "WHERE id = ?1 AND config_key_claim = ?2 AND config_key_delivered_at IS NOT NULL"));
  s.BindInt(1, device_id).BindText(2, claim);
  PG_TRY_STATUS(s.Run());
  return s.Changes() > 0;
}

Result<GivenBack> SqliteStore::GiveBackUndelivered(std::int64_t device_id, std::string_view claim) {
  return GiveBackClaim(device_id, claim, std::nullopt);
}

Result<GivenBack> SqliteStore::GiveBackClaim(std::int64_t device_id, std::string_view claim,
                                             std::optional<std::int64_t> abandoned_before) {
  ChangeNotice notice(changes_);
  std::lock_guard lock(mu_);
  PG_TRY(sqlite::Transaction tx, sqlite::Transaction::Begin(db_));
  GivenBack given;
  {
    PG_TRY(Statement s, db_.Prepare("UPDATE lines SET delivered_at = NULL, claim = NULL, claim_in_flight = 0 "
                                    "WHERE device_id = ?1 AND claim = ?2 AND delivered_at IS NOT NULL AND "
                                    "password_enc IS NOT NULL AND "
                                    "(?3 IS NULL OR (claim_in_flight = 1 AND delivered_at < ?3)) RETURNING idx"));
    s.BindInt(1, device_id).BindText(2, claim).BindInt(3, abandoned_before);
    PG_TRY(given.lines,
           ReadAll<int>(s, [](const Statement& row) -> Result<int> { return static_cast<int>(row.Int(0)); }));
  }
  // An abandoned claim's key mark goes back only with its lines in flight: those prove its
  // response never left.
  if (!abandoned_before || !given.lines.empty()) {
    PG_TRY(given.config_key, UnmarkConfigKeyLocked(device_id, claim));
  }
  PG_TRY_STATUS(tx.Commit());
  std::sort(given.lines.begin(), given.lines.end());
  return given;
}

// --- Bans ---

Status SqliteStore::SaveBan(const defense::Ban& ban) {
  std::lock_guard lock(mu_);
  PG_TRY(Statement s, db_.Prepare("INSERT INTO bans(source, reason, created, expires, offences) "
                                  "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (source) DO UPDATE SET "
                                  "reason = excluded.reason, created = excluded.created, "
                                  "expires = excluded.expires, offences = excluded.offences"));
  s.BindText(1, ban.source).BindText(2, ban.reason).BindInt(3, ban.created);
  s.BindInt(4, ban.expires).BindInt(5, ban.offence_count);
  return s.Run();
}

Result<std::vector<defense::Ban>> SqliteStore::LoadActiveBans(std::int64_t now) {
  std::lock_guard lock(mu_);
  PG_TRY(Statement s, db_.Prepare("SELECT source, reason, created, expires, offences FROM bans "
                                  "WHERE expires > ?1 ORDER BY source"));
  s.BindInt(1, now);
  return ReadAll<defense::Ban>(s, [](const Statement& row) -> Result<defense::Ban> {
    return defense::Ban{row.Text(0), row.Text(1), row.Int(2), row.Int(3), static_cast<int>(row.Int(4))};
  });
}

Status SqliteStore::RemoveBan(const std::string& source) {
  std::lock_guard lock(mu_);
  PG_TRY(Statement s, db_.Prepare("DELETE FROM bans WHERE source = ?1"));
  s.BindText(1, source);
  PG_TRY_STATUS(s.Run());
  if (s.Changes() == 0) return Error::NotFound("no ban for " + source);
  return Ok();
}

}  // namespace provgate::store
