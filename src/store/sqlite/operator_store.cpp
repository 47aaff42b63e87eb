#include "store/sqlite/operator_store.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include "store/rows.hpp"
#include "store/sqlite/migrate.hpp"

namespace provgate::store {
namespace {

using sqlite::Statement;

constexpr int kBusyTimeoutMs = 5000;
constexpr int kOperatorSchemaVersion = 6;  // migration that created api_keys

Status CheckLimit(int limit) {
  if (limit < 1 || limit > 1000) return Error::InvalidArgument("limit must be between 1 and 1000");
  return Ok();
}

}  // namespace

Result<std::unique_ptr<SqliteOperatorStore>> SqliteOperatorStore::Open(const std::filesystem::path& db) {
  PG_TRY(sqlite::Connection conn, sqlite::Connection::Open(db));
  if (int rc = sqlite3_busy_timeout(conn.handle(), kBusyTimeoutMs); rc != SQLITE_OK) {
    return sqlite::ErrorFromSqlite(conn.handle(), rc, "setting busy timeout");
  }
  PG_TRY_STATUS(conn.Exec("PRAGMA foreign_keys = ON"));
  PG_TRY(int version, sqlite::CurrentSchemaVersion(conn));
  if (version < kOperatorSchemaVersion) {
    return Error::FailedPrecondition(
        fmt::format("database {} has schema version {}; the operator store needs {} (open the store first)",
                    db.string(), version, kOperatorSchemaVersion));
  }
  return std::unique_ptr<SqliteOperatorStore>(new SqliteOperatorStore(std::move(conn)));
}

Result<ApiKeyRecord> SqliteOperatorStore::AddApiKey(const ApiKeyRecord& k) {
  std::lock_guard lock(mu_);
  PG_TRY(Statement s, db_.Prepare("INSERT INTO api_keys(prefix, hash, role, tenant_id, name, created_by, "
                                  "created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
  s.BindText(1, k.prefix).BindText(2, k.hash).BindText(3, k.role).BindInt(4, k.tenant_id);
  s.BindText(5, k.name).BindText(6, k.created_by).BindInt(7, k.created_at).BindInt(8, k.expires_at);
  if (auto r = s.Run(); !r) {
    if (s.last_error() == SQLITE_CONSTRAINT_UNIQUE) return Error::AlreadyExists("API key prefix is taken");
    if (s.last_error() == SQLITE_CONSTRAINT_FOREIGNKEY) return Error::NotFound("tenant does not exist");
    return r.error();
  }
  ApiKeyRecord out = k;
  out.id = s.LastInsertRowId();
  return out;
}

Result<ApiKeyRecord> SqliteOperatorStore::FindApiKey(const std::string& prefix) {
  std::lock_guard lock(mu_);
  PG_TRY(Statement s, db_.Prepare("SELECT " PG_KEY_COLUMNS " FROM api_keys WHERE prefix = ?1"));
  s.BindText(1, prefix);
  PG_TRY(bool row, s.Step());
  if (!row) return Error::NotFound("no such API key");
  return rows::ReadKey(s);
}

Result<std::vector<ApiKeyRecord>> SqliteOperatorStore::ListApiKeys(std::optional<std::int64_t> tenant_id) {
  std::lock_guard lock(mu_);
  PG_TRY(Statement s, db_.Prepare("SELECT " PG_KEY_COLUMNS " FROM api_keys "
                                  "WHERE (?1 IS NULL OR tenant_id = ?1) ORDER BY id"));
  s.BindInt(1, tenant_id);
  std::vector<ApiKeyRecord> out;
  for (;;) {
    PG_TRY(bool row, s.Step());
    if (!row) return out;
    out.push_back(rows::ReadKey(s));
  }
}

Status SqliteOperatorStore::RevokeApiKey(const std::string& prefix, std::optional<std::int64_t> tenant_id,
                                         std::int64_t now) {
  std::lock_guard lock(mu_);
  PG_TRY(Statement s, db_.Prepare("UPDATE api_keys SET revoked_at = ?3 WHERE prefix = ?1 "
                                  "AND (?2 IS NULL OR tenant_id = ?2) AND revoked_at IS NULL"));
  s.BindText(1, prefix).BindInt(2, tenant_id).BindInt(3, now);
  PG_TRY_STATUS(s.Run());
  if (s.Changes() == 0) return Error::NotFound("no active API key with prefix " + prefix);
  return Ok();
}

Status SqliteOperatorStore::TouchApiKey(std::int64_t id, std::int64_t now) {
  std::lock_guard lock(mu_);
  PG_TRY(Statement s, db_.Prepare("UPDATE api_keys SET last_used_at = ?2 WHERE id = ?1"));
  s.BindInt(1, id).BindInt(2, now);
  return s.Run();
}

Result<std::vector<DeviceSummary>> SqliteOperatorStore::QueryDevices(const DeviceQuery& q) {
  PG_TRY_STATUS(CheckLimit(q.limit));
  std::lock_guard lock(mu_);
  PG_TRY(Statement s, db_.Prepare("SELECT " PG_DEVICE_SUMMARY_COLUMNS " FROM devices "
                                  "WHERE (?1 IS NULL OR tenant_id = ?1) AND (?2 = 0 OR tenant_id IS NULL) "
                                  "AND (?3 IS NULL OR (CASE WHEN state = 'assigned' AND window_expires IS NOT NULL "
                                  "AND window_expires <= ?4 THEN 'expired' ELSE state END) = ?3) "
                                  "AND (?5 = '' OR vendor = ?5) AND (?6 = '' OR model = ?6) "
                                  "AND (?7 IS NULL OR (locked_reason <> '') = ?7) "
                                  "AND (?8 IS NULL OR last_seen_at >= ?8) "
                                  "AND (?9 IS NULL OR last_seen_at IS NULL OR last_seen_at < ?9) "
                                  "AND mac > ?10 ORDER BY mac LIMIT ?11"));
  s.BindInt(1, q.tenant_id).BindInt(2, q.stock_only ? 1 : 0);
  if (q.state) {
    s.BindText(3, core::DeviceStateName(*q.state));
  } else {
    s.BindNull(3);
  }
  s.BindInt(4, q.now).BindText(5, q.vendor).BindText(6, q.model);
  if (q.locked) {
    s.BindInt(7, *q.locked ? 1 : 0);
  } else {
    s.BindNull(7);
  }
  s.BindInt(8, q.seen_since).BindInt(9, q.seen_before).BindText(10, q.after_mac).BindInt(11, q.limit);
  std::vector<DeviceSummary> out;
  for (;;) {
    PG_TRY(bool row, s.Step());
    if (!row) return out;
    PG_TRY(DeviceSummary d, rows::ReadDeviceSummary(s));
    out.push_back(std::move(d));
  }
}

Result<std::vector<StoredAuditEvent>> SqliteOperatorStore::QueryAudit(const AuditQuery& q) {
  PG_TRY_STATUS(CheckLimit(q.limit));
  std::lock_guard lock(mu_);
  PG_TRY(Statement s, db_.Prepare("SELECT " PG_AUDIT_ROW_COLUMNS " FROM audit "
                                  "WHERE (?1 = '' OR mac = ?1) "
                                  "AND (?2 IS NULL OR tenant_id = ?2) "
                                  "AND (?3 = '' OR json_extract(json, '$.actor') = ?3) "
                                  "AND (?4 = '' OR decision = ?4) "
                                  "AND (?5 IS NULL OR time >= ?5) AND (?6 IS NULL OR time < ?6) "
                                  "AND (?7 IS NULL OR id < ?7) ORDER BY id DESC LIMIT ?8"));
  s.BindText(1, q.mac).BindInt(2, q.tenant_id).BindText(3, q.actor);
  s.BindText(4, q.decision).BindInt(5, q.since).BindInt(6, q.until).BindInt(7, q.before_id);
  s.BindInt(8, q.limit);
  std::vector<StoredAuditEvent> out;
  for (;;) {
    PG_TRY(bool row, s.Step());
    if (!row) return out;
    out.push_back(rows::ReadAuditRow(s));
  }
}

Status SqliteOperatorStore::Ping() {
  std::lock_guard lock(mu_);
  PG_TRY(int version, sqlite::CurrentSchemaVersion(db_));
  (void)version;
  return Ok();
}

}  // namespace provgate::store
